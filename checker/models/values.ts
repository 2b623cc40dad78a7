/**
 * Values as the models keep them. Primitives stay as they are (so states compare with ===);
 * structured values (arrays, objects) become a tagged canonical text, so that structurally
 * equal values are the same primitive.
 */
import { stableStringify } from '../porcupine/index.js';

export type Canon = string | number | boolean | null;

const TAG = '\u0000json:';

/** The canonical form of a history value; undefined (absent) is null, as Jepsen's nil. */
export function canon(value: unknown): Canon {
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Object.is(value, -0) ? 0 : value;
    default:
      return TAG + stableStringify(value);
  }
}

/** Text of a canonical value for messages and the timeline. */
export function showCanon(value: Canon): string {
  if (typeof value === 'string') {
    return value.startsWith(TAG) ? value.slice(TAG.length) : JSON.stringify(value);
  }
  return value === null ? 'nil' : String(value);
}

/** The canonical text of a value as a set or queue element. */
export function elementKey(value: unknown): string {
  return stableStringify(value === undefined ? null : value);
}

/** A [from, to] pair from a cas value, or an error naming what is wrong. */
export function casPair(value: unknown): [unknown, unknown] {
  if (Array.isArray(value) && value.length === 2) return [value[0], value[1]];
  throw new Error(`a cas value must be [from, to], got ${stableStringify(value)}`);
}
