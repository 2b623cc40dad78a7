/**
 * Model defaults in one place (`completeModel`) and the adaptation of nondeterministic models
 * (`fromNondeterministic`, the powerset construction).
 */
import type { Model, NondeterministicModel, Unknown } from './types.js';
import { UNKNOWN } from './types.js';

/** A model with every optional member filled in; what the search works with. */
export interface CompleteModel<S, I, O> {
  init(): S;
  step(state: S, input: I, output: O | Unknown): S | undefined;
  equal(a: S, b: S): boolean;
  /** A 32-bit integer hash; equal states have equal hashes. */
  hash(state: S): number;
  partitionKey(input: I): string;
  readOnly(input: I): boolean;
  describeOperation(input: I, output: O | Unknown): string;
  describeState(state: S): string;
  /** The model's exact pruning hook, when it has one. */
  viability: Model<S, I, O>['viability'];
  /** The model's hook naming indeterminate operations nobody could observe, when it has one. */
  unobservable: Model<S, I, O>['unobservable'];
}

/** FNV-1a over UTF-16 code units: a fast 32-bit hash of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** Mixes a double into 32 bits (integers map cheaply, other numbers through their bits). */
export function hashNumber(n: number): number {
  if (Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff) {
    return Math.imul(n ^ (n >>> 16), 0x45d9f3b) | 0;
  }
  return hashString(String(n));
}

/** A default hash: primitives directly, anything else through its JSON text. */
export function defaultHash(value: unknown): number {
  switch (typeof value) {
    case 'number':
      return hashNumber(value);
    case 'string':
      return hashString(value);
    case 'boolean':
      return value ? 0x2545f491 : 0x1b873593;
    case 'undefined':
      return 0x68e31da4;
    case 'bigint':
      return hashString(value.toString());
    default:
      if (value === null) return 0x5bd1e995;
      return hashString(stableStringify(value));
  }
}

/** JSON text with object keys sorted, so structurally equal values print the same. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (value === undefined) return 'undefined';
    // A bare integer literal, as JSON readers that keep big integers read it back.
    if (typeof value === 'bigint') return value.toString();
    return JSON.stringify(value) ?? String(value);
  }
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value instanceof Map) {
    const entries = [...value.entries()].map(([k, v]) => [stableStringify(k), stableStringify(v)]);
    entries.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
    return `Map{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`;
  }
  if (value instanceof Set) {
    const items = [...value].map(stableStringify).sort();
    return `Set{${items.join(',')}}`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
}

/** Structural equality for plain data (primitives, arrays, plain objects, Maps, Sets). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Map || b instanceof Map || a instanceof Set || b instanceof Set) {
    return stableStringify(a) === stableStringify(b);
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ob = b as Record<string, unknown>;
  const oa = a as Record<string, unknown>;
  for (const k of ka) {
    if (!Object.hasOwn(ob, k) || !deepEqual(oa[k], ob[k])) return false;
  }
  return true;
}

function describeValue(value: unknown): string {
  if (value === UNKNOWN) return '?';
  if (typeof value === 'string') return JSON.stringify(value);
  return stableStringify(value);
}

/** Fills in every optional member of a model with its default. */
export function completeModel<S, I, O>(model: Model<S, I, O>): CompleteModel<S, I, O> {
  const userHash = model.hash;
  const hash =
    userHash === undefined
      ? (s: S) => defaultHash(s)
      : (s: S) => {
          const h = userHash.call(model, s);
          return typeof h === 'number'
            ? Number.isInteger(h)
              ? h | 0
              : hashNumber(h)
            : hashString(h);
        };
  return {
    init: () => model.init(),
    step: (s, i, o) => model.step(s, i, o),
    equal: model.equal ? (a, b) => model.equal!(a, b) : (a, b) => deepEqual(a, b),
    hash,
    partitionKey: model.partitionKey ? (i) => model.partitionKey!(i) : () => '',
    readOnly: model.readOnly ? (i) => model.readOnly!(i) : () => false,
    describeOperation: model.describeOperation
      ? (i, o) => model.describeOperation!(i, o)
      : (i, o) => `${describeValue(i)} -> ${describeValue(o)}`,
    describeState: model.describeState ? (s) => model.describeState!(s) : (s) => describeValue(s),
    viability: model.viability ? (ops) => model.viability!(ops) : undefined,
    unobservable: model.unobservable ? (ops) => model.unobservable!(ops) : undefined,
  };
}

/**
 * Adapts a nondeterministic model to an ordinary one whose state is the set of states the
 * nondeterministic model may be in (deduplicated with its `equal`). A step is impossible when
 * it leads to no state at all.
 */
export function fromNondeterministic<S, I, O>(
  model: NondeterministicModel<S, I, O>,
): Model<S[], I, O> {
  const inner = completeModel<S, I, O>({
    init: () => model.init()[0] as S,
    step: () => undefined,
    ...(model.equal ? { equal: model.equal } : {}),
    ...(model.hash ? { hash: model.hash } : {}),
    ...(model.describeState ? { describeState: model.describeState } : {}),
  });
  const dedupe = (states: S[]): S[] => {
    const out: S[] = [];
    const hashes: number[] = [];
    for (const s of states) {
      const h = inner.hash(s);
      let seen = false;
      for (let j = 0; j < out.length; j++) {
        if (hashes[j] === h && inner.equal(out[j]!, s)) {
          seen = true;
          break;
        }
      }
      if (!seen) {
        out.push(s);
        hashes.push(h);
      }
    }
    return out;
  };
  const adapted: Model<S[], I, O> = {
    init: () => dedupe(model.init()),
    step(states, input, output) {
      const next: S[] = [];
      for (const s of states) for (const t of model.step(s, input, output)) next.push(t);
      const out = dedupe(next);
      return out.length === 0 ? undefined : out;
    },
    equal(a, b) {
      if (a.length !== b.length) return false;
      for (const x of a) if (!b.some((y) => inner.equal(x, y))) return false;
      return true;
    },
    // Order-independent: the sum of the members' hashes (members are distinct).
    hash(states) {
      let h = 0;
      for (const s of states) h = (h + inner.hash(s)) | 0;
      return h;
    },
    describeState: (states) => `{${states.map((s) => inner.describeState(s)).join(', ')}}`,
  };
  if (model.partitionKey) adapted.partitionKey = (i) => model.partitionKey!(i);
  if (model.readOnly) adapted.readOnly = (i) => model.readOnly!(i);
  if (model.describeOperation) adapted.describeOperation = (i, o) => model.describeOperation!(i, o);
  return adapted;
}
