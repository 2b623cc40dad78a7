/**
 * Values as the models keep them: a canonical form per value, equal exactly when the values
 * are equal by type and content, and cheap to compare with ===.
 *
 * - null and undefined (absent) are Jepsen's nil: null.
 * - Booleans and numbers stay as they are (-0 becomes 0; NaN a tag, so that it equals itself).
 * - Integers compare by their exact value, whatever their JS type: a bigint that a double
 *   holds exactly is that double (5n is 5, 2n ** 60n is 2 ** 60); any other bigint is a tag
 *   with its digits. Parsers give a bigint only for integers beyond 2^53, so in a history an
 *   integer literal is equal to another only when they have the same digits.
 * - Strings stay as they are, unless they start with NUL: every tag starts with NUL, so such a
 *   string is tagged too, and no string can pass for an array, an object or a bigint.
 * - Arrays and objects become a tag with `canonText`, a typed text of their content.
 */
import type { Key } from '../history/event.js';
import { stableStringify } from '../porcupine/index.js';

export type Canon = string | number | boolean | null;

const TAG_JSON = '\u0000json:';
const TAG_INT = '\u0000int:';
const TAG_STR = '\u0000str:';
const TAG_NAN = '\u0000NaN';

/** The double equal to `b`, when a double holds it exactly. */
function exactDouble(b: bigint): number | undefined {
  const n = Number(b);
  return Number.isFinite(n) && BigInt(n) === b ? n : undefined;
}

/**
 * A number's text, one per value: exact digits for the integers String() would round
 * (2 ** 60 is 1152921504606846976, not 1152921504606847000), so that a double's text never
 * equals the digits of a different integer.
 */
export function numberText(n: number): string {
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && Math.abs(n) < 1e21) {
    return BigInt(n).toString();
  }
  return n === 0 ? '0' : String(n);
}

function bigintText(b: bigint): string {
  const n = exactDouble(b);
  return n === undefined ? b.toString() : numberText(n);
}

/** The canonical form of a history value (see above). */
export function canon(value: unknown): Canon {
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'string':
      return value.charCodeAt(0) === 0 ? TAG_STR + value : value;
    case 'boolean':
      return value;
    case 'number':
      // biome-ignore lint/suspicious/noSelfCompare: the NaN test
      if (value !== value) return TAG_NAN;
      return value === 0 ? 0 : value;
    case 'bigint': {
      const n = exactDouble(value);
      return n === undefined ? TAG_INT + value.toString() : n === 0 ? 0 : n;
    }
    default:
      return TAG_JSON + canonText(value);
  }
}

/**
 * A typed text of any value: strings quoted, numbers and bigints by exact value (as `canon`),
 * object keys sorted. Two values have the same text exactly when `canon` finds them equal.
 */
export function canonText(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return numberText(value);
    case 'bigint':
      return bigintText(value);
    case 'object':
      break;
    default:
      return `${typeof value}:${String(value)}`;
  }
  if (Array.isArray(value)) return `[${value.map(canonText).join(',')}]`;
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => `${canonText(k)}:${canonText(v)}`).sort();
    return `Map{${entries.join(',')}}`;
  }
  if (value instanceof Set) return `Set{${[...value].map(canonText).sort().join(',')}}`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonText(obj[k])}`).join(',')}}`;
}

/** Text of a canonical value for messages and the timeline. */
export function showCanon(value: Canon): string {
  if (value === null) return 'nil';
  if (typeof value === 'number') return numberText(value);
  if (typeof value !== 'string') return String(value);
  if (value.charCodeAt(0) === 0) {
    if (value.startsWith(TAG_JSON)) return value.slice(TAG_JSON.length);
    if (value.startsWith(TAG_INT)) return value.slice(TAG_INT.length);
    if (value.startsWith(TAG_STR)) return JSON.stringify(value.slice(TAG_STR.length));
    if (value === TAG_NAN) return 'NaN';
  }
  return JSON.stringify(value);
}

/** The canonical text of a value as a set or queue element. */
export function elementKey(value: unknown): string {
  return canonText(value);
}

/** Strings that could be read as a number's name, or as a quoted string: these get quoted. */
const QUOTE_KEY = /^(?:-?(?:\d|Infinity)|NaN|"|$)/;

/**
 * A key's name: one per key, keeping its type (the string "1" and the number 1 are two keys).
 * Numbers are named by `numberText`, bigints like the number they equal (as `canon`); strings
 * by themselves, unless empty or starting like a number or a quote: then as JSON. No two keys
 * share a name, and "" (the name of a history searched as one) is no key's name.
 */
export function keyName(key: Key): string {
  if (typeof key === 'string') return QUOTE_KEY.test(key) ? JSON.stringify(key) : key;
  if (typeof key === 'bigint') return bigintText(key);
  return numberText(key);
}

/** A [from, to] pair from a cas value, or an error naming what is wrong. */
export function casPair(value: unknown): [unknown, unknown] {
  if (Array.isArray(value) && value.length === 2) return [value[0], value[1]];
  throw new Error(`a cas value must be [from, to], got ${stableStringify(value)}`);
}
