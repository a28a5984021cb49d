// RFC 8785 JSON canonicalization (JCS) of a value parsed from JSON, so the page hashes an entry to the same
// bytes as the service (src/integrity/leaf.ts): object keys sorted by UTF-16 code units (the default sort),
// strings, numbers, booleans and null exactly as JSON.stringify writes them (ECMAScript's number form, which
// RFC 8785 adopts), no whitespace.

export function canonicalJson(value) {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('JCS has no form for ' + value);
    const s = JSON.stringify(value);
    if (s === undefined) throw new Error(`JCS has no form for a ${typeof value}`);
    return s;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
}
