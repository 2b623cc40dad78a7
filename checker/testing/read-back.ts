/**
 * A JSON-shaped value as a history reader gives it back after writing: no -0, no "__proto__"
 * keys (not data), and a double written as an integer literal beyond 2^53 read back exactly, as
 * a bigint. For round-trip property tests of the readers and writers.
 */
export function readBack(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (
    typeof v === 'number' &&
    Number.isInteger(v) &&
    !Number.isSafeInteger(v) &&
    Math.abs(v) < 1e21
  )
    return BigInt(v);
  if (Array.isArray(v)) return v.map(readBack);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== '__proto__') out[k] = readBack(x);
    return out;
  }
  return v;
}
