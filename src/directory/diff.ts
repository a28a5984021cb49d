/** What an update changes, in the form directory audit events carry in `metadata`: `{ field: { from, to } }`. */
export type Changes = Record<string, { from: unknown; to: unknown }>;

/** The fields of `input` whose value differs from `current`, or undefined when nothing changes. */
export function changedFields<T extends object>(current: T, input: Partial<T>): Changes | undefined {
  const changes: Changes = {};
  for (const [field, to] of Object.entries(input)) {
    const from = (current as Record<string, unknown>)[field];
    if (from !== to) changes[field] = { from: from ?? null, to };
  }
  return Object.keys(changes).length > 0 ? changes : undefined;
}
