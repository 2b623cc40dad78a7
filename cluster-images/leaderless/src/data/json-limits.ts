/**
 * How deep and how large JSON values may be, in one place so that the client port and the peer
 * port agree: whatever a client may store, every peer must accept inside the messages that carry
 * it (a peer refusing it would fail the write on every replica but the coordinator).
 *
 * Depth counts nested arrays/objects: a scalar is 0 deep, `[1]` 1, `{"a":[1]}` 2.
 */

/** Deepest client value (a body field such as `value`, `add`, `from`). */
export const MAX_VALUE_DEPTH = 64;

/**
 * The deepest a store wraps a client value in what it sends to peers: a CASPaxos register is
 * stored as `{v: value, ops}` (eventual states carry values as fields the peers check separately).
 */
export const STORED_WRAP_DEPTH = 1;

/** Deepest JSON a peer accepts in any value field: client values plus their wrapping. */
export const MAX_PEER_JSON_DEPTH = MAX_VALUE_DEPTH + STORED_WRAP_DEPTH;

/**
 * Numbers a client value may hold: finite, and no larger in magnitude than 2^53 - 1. Beyond that
 * a double no longer holds every integer, so the number read back could differ from the text sent
 * (9007199254740993 would come back as ...992); `1e400` would parse as Infinity and read back as
 * null. Such values are refused rather than stored altered.
 */
export const MAX_EXACT_MAGNITUDE = Number.MAX_SAFE_INTEGER;

/**
 * Why a parsed client value is not storable, or undefined when it is; the message names the
 * place inside the value (`[1].a`) so the client learns where the problem is.
 */
export function clientValueProblem(v: unknown): string | undefined {
  return problemAt(v, '', 0);
}

const where = (at: string) => (at === '' ? '' : ` (at ${at})`);

function problemAt(v: unknown, at: string, depth: number): string | undefined {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return undefined;
  if (typeof v === 'number') {
    if (Number.isFinite(v) && Math.abs(v) <= MAX_EXACT_MAGNITUDE) return undefined;
    const shown = Number.isFinite(v) ? String(v) : `too large to represent (parsed as ${v})`;
    return (
      `number ${shown} is out of range${where(at)}: numbers must be finite and at most ` +
      `2^53 - 1 (${MAX_EXACT_MAGNITUDE}) in magnitude to read back exactly`
    );
  }
  if (typeof v !== 'object') return `not a JSON value${where(at)}`;
  if (depth >= MAX_VALUE_DEPTH) {
    return `a JSON value nested at most ${MAX_VALUE_DEPTH} deep is required${where(at)}`;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = problemAt(v[i], `${at}[${i}]`, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    const p = problemAt(x, `${at}.${JSON.stringify(k).slice(1, -1)}`, depth + 1);
    if (p) return p;
  }
  return undefined;
}
