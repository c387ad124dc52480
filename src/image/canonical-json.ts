/**
 * canonical-json.ts — the one JSON encoder for digest-bearing documents. PURE.
 *
 * Object keys are written in sorted order (as Go's encoding/json does for maps and as GGCR's output
 * does for most documents), `undefined` members are dropped, no whitespace, UTF-8. The same value
 * always gives the same bytes, whatever order the code built it in.
 */

/** canonicalJson encodes a value deterministically. */
export function canonicalJson(value: unknown): Uint8Array {
  return Buffer.from(stringifySorted(value), 'utf8');
}

function stringifySorted(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`cannot encode ${v} in JSON`);
    return JSON.stringify(v) ?? 'null';
  }
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stringifySorted(x))).join(',')}]`;
  if (v instanceof Uint8Array) throw new Error('cannot encode bytes in JSON');
  const keys = Object.keys(v)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stringifySorted((v as Record<string, unknown>)[k])}`).join(',')}}`;
}
