/**
 * Validation of one history event against `historyEventSchema` (./event.ts), with messages
 * that name the file, line and field.
 *
 * zod's schema is the contract, but running it on each of a million lines costs more than the
 * JSON parse itself, and loading zod is a good part of a small check's start-up: so the checks
 * here are hand-written, accepting exactly what the schema accepts and naming the field it would
 * name first (property tests in validate.test.ts hold the two together).
 */
import { HistoryError, type HistoryLocation } from './errors.js';
import type { HistoryEvent } from './event.js';
import { OP_TYPES } from './event-kinds.js';
import { stringifyJson } from './json.js';

const OP_TYPE_SET: ReadonlySet<unknown> = new Set<unknown>(OP_TYPES);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Same acceptance as `historyEventSchema.safeParse(v).success`, without allocating. */
export function isHistoryEvent(v: unknown): v is HistoryEvent {
  if (!isPlainObject(v)) return false;
  const { index, time, process, type, f, key, node } = v;
  if (!(typeof index === 'number' && Number.isSafeInteger(index) && index >= 0)) return false;
  if (!(typeof time === 'number' && Number.isFinite(time) && time >= 0)) return false;
  if (typeof process === 'number') {
    if (!(Number.isSafeInteger(process) && process >= 0)) return false;
  } else if (!(typeof process === 'string' && process.length > 0)) return false;
  if (!OP_TYPE_SET.has(type)) return false;
  if (!(typeof f === 'string' && f.length > 0)) return false;
  if (key !== undefined && typeof key !== 'string' && typeof key !== 'bigint') {
    if (!(typeof key === 'number' && Number.isFinite(key))) return false;
  }
  if (node !== undefined && typeof node !== 'string') return false;
  return true;
}

const EXPECTATIONS: Record<string, string> = {
  index: 'expected a non-negative integer',
  time: 'expected a non-negative number of nanoseconds',
  process: 'expected a non-negative integer or a non-empty string',
  type: `expected one of ${OP_TYPES.join('|')}`,
  f: 'expected a non-empty string',
  key: 'expected a string or a number',
  node: 'expected a string',
};

/** A value as it appears in an error message: JSON, shortened. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  let text: string;
  try {
    text = stringifyJson(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/**
 * The event as the schema reads it, or a HistoryError naming the location and the first field
 * at fault. `location.field` is filled in here.
 */
export function parseHistoryEvent(v: unknown, location: Omit<HistoryLocation, 'field'>) {
  if (isHistoryEvent(v)) return v;
  if (!isPlainObject(v)) {
    throw new HistoryError(location, `expected an event object, got ${kindOf(v)} ${show(v)}`);
  }
  const field = firstBadField(v);
  throw new HistoryError({ ...location, field }, `${EXPECTATIONS[field]}, got ${show(v[field])}`);
}

/** The checks of isHistoryEvent one field at a time, in the schema's order of fields. */
const FIELD_CHECKS: readonly (readonly [string, (x: unknown) => boolean])[] = [
  ['index', (x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0],
  ['time', (x) => typeof x === 'number' && Number.isFinite(x) && x >= 0],
  [
    'process',
    (x) =>
      typeof x === 'number'
        ? Number.isSafeInteger(x) && x >= 0
        : typeof x === 'string' && x.length > 0,
  ],
  ['type', (x) => OP_TYPE_SET.has(x)],
  ['f', (x) => typeof x === 'string' && x.length > 0],
  [
    'key',
    (x) =>
      x === undefined ||
      typeof x === 'string' ||
      typeof x === 'bigint' ||
      (typeof x === 'number' && Number.isFinite(x)),
  ],
  ['node', (x) => x === undefined || typeof x === 'string'],
];

/** The first field (in the schema's order) of an object isHistoryEvent rejects. */
function firstBadField(v: Record<string, unknown>): string {
  for (const [field, ok] of FIELD_CHECKS) if (!ok(v[field])) return field;
  // Unreachable: isHistoryEvent is the conjunction of these checks.
  throw new Error('an event rejected with no field at fault');
}
