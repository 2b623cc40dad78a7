/**
 * `append-kv`: string values per `key` with get/put/append, every key starting as "" (the
 * porcupine kv histories). A get's completion value is the whole string.
 *
 * Values grow by appending, so a state keeps each string as a chain of appended pieces with
 * its length and a polynomial hash (hash(a + b) = hash(a)·B^|b| + hash(b) mod 2^32): stepping
 * and hashing cost the piece, not the whole string. Strings are compared in full only when a
 * get observes one, or when two states' hashes and lengths agree.
 */
import type { ClientOp } from '../history/client-op.js';
import type { Model, Operation, Viability } from '../porcupine/index.js';
import { hashString, UNKNOWN } from '../porcupine/index.js';
import type { HistoryModel } from './history-model.js';
import { ModelMismatchError, observed } from './history-model.js';
import { findSortedKey } from './sorted-keys.js';
import { canonText, keyName } from './values.js';

/** `key` is the history key's `keyName`: 1 and "1" are two keys. */
export type AppendKvInput =
  | { f: 'get'; key: string }
  | { f: 'put'; key: string; value: string }
  | { f: 'append'; key: string; value: string };

/** A get's output is the string read; put and append output true. */
export type AppendKvOutput = string | true;

/** A string as the chain of pieces it was built from. */
export interface Str {
  readonly parent: Str | null;
  readonly piece: string;
  readonly length: number;
  readonly hash: number;
}

export interface AppendKvState {
  /** Keys holding a non-empty string, sorted; `strings` parallel to them. */
  readonly keys: readonly string[];
  readonly strings: readonly Str[];
  readonly hash: number;
}

const B = 0x01000193;

function powB(n: number): number {
  let r = 1;
  let b = B;
  while (n > 0) {
    if (n & 1) r = Math.imul(r, b);
    b = Math.imul(b, b);
    n >>>= 1;
  }
  return r;
}

function polyHash(s: string, from = 0, h = 0): number {
  for (let i = from; i < s.length; i++) h = (Math.imul(h, B) + s.charCodeAt(i)) | 0;
  return h;
}

function leaf(s: string): Str {
  return { parent: null, piece: s, length: s.length, hash: polyHash(s) };
}

function append(a: Str | undefined, s: string): Str {
  if (a === undefined) return leaf(s);
  return {
    parent: a,
    piece: s,
    length: a.length + s.length,
    hash: (Math.imul(a.hash, powB(s.length)) + polyHash(s)) | 0,
  };
}

export function strText(a: Str | undefined): string {
  if (a === undefined) return '';
  if (a.parent === null) return a.piece;
  const pieces: string[] = [];
  for (let p: Str | null = a; p !== null; p = p.parent) pieces.push(p.piece);
  pieces.reverse();
  return pieces.join('');
}

function strEquals(a: Str | undefined, b: Str | undefined): boolean {
  if (a === b) return true;
  const la = a?.length ?? 0;
  const lb = b?.length ?? 0;
  if (la !== lb) return false;
  if (la === 0) return true;
  if (a!.hash !== b!.hash) return false;
  return strText(a) === strText(b);
}

/** Whether `a` equals the string `s`, comparing from the end piece by piece. */
function strIs(a: Str | undefined, s: string): boolean {
  if (a === undefined) return s.length === 0;
  if (a.length !== s.length || a.hash !== polyHash(s)) return false;
  let end = s.length;
  for (let p: Str | null = a; p !== null; p = p.parent) {
    const start = end - p.piece.length;
    if (!s.startsWith(p.piece, start)) return false;
    end = start;
  }
  return true;
}

/** The string under `key` ("" as undefined). */
function stringAt(state: AppendKvState, key: string): Str | undefined {
  if (state.keys.length === 1) return state.keys[0] === key ? state.strings[0] : undefined;
  const i = findSortedKey(state.keys, key);
  return i >= 0 ? state.strings[i] : undefined;
}

function entryHash(key: string, s: Str): number {
  return Math.imul(hashString(key) ^ Math.imul(s.hash, 0x85ebca6b), 0xc2b2ae35) ^ s.length;
}

/** How many gets beyond the search's window are looked at after each step. */
const LOOKAHEAD_GETS = 8;

interface KeyIndex {
  /** Append operations by value length, then by value hash. */
  appends: Map<number, Map<number, number[]>>;
  /** Distinct non-zero append lengths. */
  lengths: number[];
  /** Put operations. */
  puts: number[];
  /** Get operations with a finite return and a known output, by return time. */
  gets: number[];
  getReturns: number[];
}

/**
 * Exact pruning for append-kv. A string changes only by puts and appends, so what a get g that
 * is still to be linearized observes must be: the current string, or the value of a put that
 * may come before g, followed by values of appends that may come before g (not yet linearized,
 * called no later than g's return). Checked as reachability over positions of the observed
 * string, comparing pieces by polynomial hash: a hash mismatch proves two strings differ, so
 * "unreachable" is a proof and pruning on it is exact (reusing an append is allowed, which
 * only makes the check weaker). Applied to the gets in the search's window and to the next
 * few gets after it, which catches appends spent before a put whose values later gets show.
 */
function appendKvViability(
  ops: readonly Operation<AppendKvInput, AppendKvOutput>[],
  prefixHashes: (s: string) => Int32Array,
): Viability<AppendKvState> {
  const index = new Map<string, KeyIndex>();
  const pieceHash = new Int32Array(ops.length);
  const keyIndex = (key: string): KeyIndex => {
    let k = index.get(key);
    if (k === undefined) {
      k = { appends: new Map(), lengths: [], puts: [], gets: [], getReturns: [] };
      index.set(key, k);
    }
    return k;
  };
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const k = keyIndex(op.input.key);
    if (op.input.f === 'append' && op.input.value.length > 0) {
      const len = op.input.value.length;
      const h = polyHash(op.input.value);
      pieceHash[i] = h;
      let byHash = k.appends.get(len);
      if (byHash === undefined) {
        byHash = new Map();
        k.appends.set(len, byHash);
        k.lengths.push(len);
      }
      const list = byHash.get(h);
      if (list === undefined) byHash.set(h, [i]);
      else list.push(i);
    } else if (op.input.f === 'put') {
      pieceHash[i] = polyHash(op.input.value);
      k.puts.push(i);
    } else if (
      op.input.f === 'get' &&
      op.output !== UNKNOWN &&
      op.return !== Number.POSITIVE_INFINITY
    ) {
      k.gets.push(i);
    }
  }
  for (const k of index.values()) {
    k.gets.sort((a, b) => ops[a]!.return - ops[b]!.return);
    k.getReturns = k.gets.map((g) => ops[g]!.return);
  }
  let reach = new Uint8Array(64);
  const powers: number[] = [1];
  const pow = (n: number): number => {
    while (powers.length <= n) powers.push(Math.imul(powers[powers.length - 1]!, B));
    return powers[n]!;
  };

  /** Whether get g may still observe its value from `current` (see above). */
  const reachable = (
    g: number,
    current: Str | undefined,
    linearized: (op: number) => boolean,
  ): boolean => {
    const op = ops[g]!;
    const seen = op.output as string;
    const until = op.return;
    const k = index.get(op.input.key)!;
    const prefix = prefixHashes(seen);
    const n = seen.length;
    const base = current?.length ?? 0;
    const fromCurrent = base <= n && (base === 0 || prefix[base] === current!.hash);
    if (fromCurrent && base === n) return true;
    if (reach.length < n + 1) reach = new Uint8Array(2 * (n + 1));
    reach.fill(0, 0, n + 1);
    let any = false;
    if (fromCurrent) {
      reach[base] = 1;
      any = true;
    }
    for (const p of k.puts) {
      const put = ops[p]!;
      if (put.call > until || linearized(p)) continue;
      const len = (put.input as { value: string }).value.length;
      if (len <= n && prefix[len] === pieceHash[p]) {
        if (len === n) return true;
        reach[len] = 1;
        any = true;
      }
    }
    if (!any) return false;
    for (let i = 0; i < n; i++) {
      if (reach[i] === 0) continue;
      for (const len of k.lengths) {
        const j = i + len;
        if (j > n || reach[j] === 1) continue;
        const h = (prefix[j]! - Math.imul(prefix[i]!, pow(len))) | 0;
        const candidates = k.appends.get(len)!.get(h);
        if (candidates === undefined) continue;
        for (const a of candidates) {
          if (ops[a]!.call <= until && !linearized(a)) {
            if (j === n) return true;
            reach[j] = 1;
            break;
          }
        }
      }
    }
    return false;
  };

  return (state, pending, size, front, linearized) => {
    for (let j = 0; j < size; j++) {
      const g = pending[j]!;
      const op = ops[g]!;
      if (op.input.f !== 'get' || op.output === UNKNOWN || op.return === Number.POSITIVE_INFINITY)
        continue;
      if (!reachable(g, stringAt(state, op.input.key), linearized)) return false;
    }
    // The next gets after the window, on the front's key.
    const frontReturn = ops[front]!.return;
    const k = index.get(ops[front]!.input.key);
    if (k === undefined || k.gets.length === 0) return true;
    let lo = 0;
    let hi = k.gets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (k.getReturns[mid]! <= frontReturn) lo = mid + 1;
      else hi = mid;
    }
    const current = stringAt(state, ops[front]!.input.key);
    let checked = 0;
    for (let i = lo; i < k.gets.length && checked < LOOKAHEAD_GETS; i++) {
      const g = k.gets[i]!;
      if (ops[g]!.call <= frontReturn || linearized(g)) continue;
      checked++;
      if (!reachable(g, current, linearized)) return false;
    }
    return true;
  };
}

export function appendKvModel(): Model<AppendKvState, AppendKvInput, AppendKvOutput> {
  const empty: AppendKvState = { keys: [], strings: [], hash: 0 };
  // Prefix hashes of the strings gets observed, for the pruning hook.
  const prefixes = new Map<string, Int32Array>();
  const prefixHashes = (s: string): Int32Array => {
    let p = prefixes.get(s);
    if (p === undefined) {
      p = new Int32Array(s.length + 1);
      let h = 0;
      for (let i = 0; i < s.length; i++) {
        h = (Math.imul(h, B) + s.charCodeAt(i)) | 0;
        p[i + 1] = h;
      }
      prefixes.set(s, p);
    }
    return p;
  };
  const withValue = (state: AppendKvState, key: string, next: Str | undefined): AppendKvState => {
    const i = findSortedKey(state.keys, key);
    let hash = state.hash;
    if (i >= 0) hash ^= entryHash(key, state.strings[i]!);
    const keep = next !== undefined && next.length > 0;
    if (keep) hash ^= entryHash(key, next);
    const keys = state.keys.slice();
    const strings = state.strings.slice();
    if (i >= 0) {
      if (keep) strings[i] = next;
      else {
        keys.splice(i, 1);
        strings.splice(i, 1);
      }
    } else if (keep) {
      keys.splice(-i - 1, 0, key);
      strings.splice(-i - 1, 0, next);
    }
    return { keys, strings, hash };
  };
  return {
    init: () => empty,
    step(state, input, output) {
      const current = stringAt(state, input.key);
      switch (input.f) {
        case 'get':
          return output === UNKNOWN || strIs(current, output as string) ? state : undefined;
        case 'put':
          return withValue(
            state,
            input.key,
            input.value.length === 0 ? undefined : leaf(input.value),
          );
        case 'append':
          return input.value.length === 0
            ? state
            : withValue(state, input.key, append(current, input.value));
      }
    },
    equal(a, b) {
      if (a === b) return true;
      if (a.hash !== b.hash || a.keys.length !== b.keys.length) return false;
      for (let i = 0; i < a.keys.length; i++) {
        if (a.keys[i] !== b.keys[i] || !strEquals(a.strings[i], b.strings[i])) return false;
      }
      return true;
    },
    hash: (s) => s.hash,
    partitionKey: (input) => input.key,
    readOnly: (input) => input.f === 'get',
    viability: (ops) => appendKvViability(ops, prefixHashes),
    describeOperation(input, output) {
      const tail = output === UNKNOWN ? ' ?' : '';
      if (input.f === 'get')
        return `${input.key}: get → ${output === UNKNOWN ? '?' : JSON.stringify(output)}`;
      return `${input.key}: ${input.f} ${JSON.stringify(input.value)}${tail}`;
    },
    describeState(s) {
      const parts = s.keys.map((k, i) => [k, s.strings[i]!] as const);
      return `{${parts.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(strText(v))}`).join(', ')}}`;
    },
  };
}

/**
 * A value as a string: nil is "" (every key starts empty). Anything else but a string does not
 * fit the model: read as a string, the number 1 would pass for "1".
 */
function stringValue(op: ClientOp, value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  throw new ModelMismatchError('append-kv', op, `expected a string value, got ${canonText(value)}`);
}

export function appendKvHistoryModel(
  moduleUrl: string,
): HistoryModel<AppendKvState, AppendKvInput, AppendKvOutput> {
  return {
    name: 'append-kv',
    model: appendKvModel(),
    toOperation(op) {
      if (op.key === undefined)
        throw new ModelMismatchError('append-kv', op, 'an operation needs a key');
      const key = keyName(op.key);
      const out = observed(op);
      switch (op.f) {
        case 'get':
          return {
            input: { f: 'get', key },
            output: out === UNKNOWN ? UNKNOWN : stringValue(op, out),
          };
        case 'put':
        case 'append':
          return {
            input: { f: op.f, key, value: stringValue(op, op.invoke.value) },
            output: out === UNKNOWN ? UNKNOWN : true,
          };
      }
      throw new ModelMismatchError('append-kv', op, 'expected get, put or append');
    },
    source: { module: moduleUrl, exportName: 'porcupineModel', args: ['append-kv', null] },
  };
}
