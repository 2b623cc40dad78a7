/**
 * The test oracles' own equality of history values, written apart from the models' canonical
 * forms (checker/models/values.ts) so that it can judge them: equal by type and content.
 *
 * - nil: null and undefined.
 * - Numbers and bigints by mathematical value (5n is 5; 2n ** 53n is 2 ** 53); NaN equals NaN.
 * - Strings, booleans: ===. A string never equals a number, an array or an object.
 * - Arrays element by element; plain objects by the same own keys with equal values.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  const nilA = a === null || a === undefined;
  const nilB = b === null || b === undefined;
  if (nilA || nilB) return nilA && nilB;
  const numA = typeof a === 'number' || typeof a === 'bigint';
  const numB = typeof b === 'number' || typeof b === 'bigint';
  if (numA || numB) return numA && numB && sameNumber(a as number | bigint, b as number | bigint);
  if (typeof a !== typeof b) return false;
  if (typeof a !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  const ka = Object.keys(oa);
  if (ka.length !== Object.keys(ob).length) return false;
  return ka.every((k) => Object.hasOwn(ob, k) && sameValue(oa[k], ob[k]));
}

function sameNumber(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    return a === b || (Number.isNaN(a) && Number.isNaN(b));
  }
  if (typeof a === 'bigint' && typeof b === 'bigint') return a === b;
  const n = (typeof a === 'number' ? a : b) as number;
  const big = (typeof a === 'bigint' ? a : b) as bigint;
  // A double equals an integer only when it is that integer exactly.
  return Number.isInteger(n) && BigInt(n) === big;
}

/** Two keys are one key when they are the same value (1 and "1" are two keys). */
export const sameKey = sameValue;
