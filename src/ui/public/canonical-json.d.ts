// Types of canonical-json.js for the tests that run it in Node.
export function canonicalJson(value: unknown): string;
