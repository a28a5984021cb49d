/**
 * Checks a response the service gave against the OpenAPI document it serves: the operation (method + path
 * template) must document the status, and the body must match that response's schema (ajv, draft 2020-12, the
 * dialect of OpenAPI 3.1).
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from '../src/http/openapi.ts';

const addFormats = addFormatsModule.default;
const doc = openApiDocument() as {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
};
// The whole document is one schema resource, so `#/components/schemas/…` refs resolve inside it.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi');
const compiled = new Map<string, ValidateFunction>();

/** Pointer-escapes a path template for a JSON pointer (`/` → `~1`). */
const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Throws with the schema errors when `body` is not what the document says `method path` answers with `status`. */
export function checkResponse(method: string, path: string, status: number, body: unknown): void {
  const m = method.toLowerCase();
  const op = doc.paths[path]?.[m];
  if (!op) throw new Error(`the OpenAPI document has no operation ${method} ${path}`);
  const response = op.responses[String(status)];
  if (!response) throw new Error(`${method} ${path} does not document status ${status}`);
  if (!response.content?.['application/json']) return;
  const key = `${m} ${path} ${status}`;
  let validate = compiled.get(key);
  if (!validate) {
    const pointer = `openapi#/paths/${escape(path)}/${m}/responses/${status}/content/application~1json/schema`;
    validate = ajv.compile({ $ref: pointer });
    compiled.set(key, validate);
  }
  if (!validate(body)) {
    throw new Error(
      `${method} ${path} ${status}: body does not match the document: ${ajv.errorsText(validate.errors)}\n` +
        JSON.stringify(body).slice(0, 500),
    );
  }
}
