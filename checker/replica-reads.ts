/**
 * Final replica states in a history, as the convergence, set-full and counter checkers read
 * them (contract of issue 7):
 *
 * - `replica-read` ops: after the heal the runner reads every node's raw state in rounds,
 *   `{"f":"replica-read","value":{"node":"n2","round":3}}` on invoke and
 *   `{"value":{"node":"n2","round":3,"keys":{"<key>": <state>}}}` on an ok completion. A key
 *   missing from `keys` is absent on that replica (the empty state). When states name their
 *   key's owners (`owners`), a key is judged only on the union of the owners named for it
 *   (replica-owners.ts); otherwise every node holds every key once converged. Rounds are ordered by number;
 *   a round's time is when its last ok read completed; a node read twice in a round counts
 *   once (the later read); a node without an ok read in a round is `missing` from it.
 * - Jepsen-style fallback, when there are no replica-read ops: each process's last ok `read` of
 *   each key invoked after the heal (the last `heal-all-stop`, else the last nemesis event, else
 *   any time) acts as one replica's read (one round). Such a read says nothing about the keys
 *   it did not read.
 * - Keys: `keys` object keys are strings; client ops' keys (strings or numbers) are matched by
 *   `String(key)`; a history without keys has the one key "".
 *
 * The parsed reads are cached per `ops` array: the checkers of one run parse them once.
 *
 * States are checked against the contract's shape by a hand-written fast path (zod on a
 * million states costs seconds); only a state the fast path rejects goes through zod, which
 * words the error, naming the history index and the field.
 */
import { z } from 'zod';
import type { ClientOp } from './history/client-op.js';
import type { HistoryEvent, Key } from './history/event.js';
import { isNemesisEvent } from './history/event.js';
import { parseJson, stringifyJson } from './history/json.js';
import { numberText } from './models/values.js';
import { claimedOwners, judges, OwnerUnion } from './replica-owners.js';

export type ReplicaDataType = 'lww' | 'siblings' | 'set' | 'counter';

/** Eventual kv: live values (lww: at most one; siblings: all concurrent; absent: []). */
export interface KvState {
  values: unknown[];
  /** The store's wall-clock timestamp (ms) of values[i], when it has one (lww). */
  ts?: number[];
}
export interface SetState {
  elements: unknown[];
}
export interface CounterState {
  value: number;
}

export interface StateByKind {
  kv: KvState;
  set: SetState;
  counter: CounterState;
}
export type StateKind = keyof StateByKind;

export function stateKindOf(type: ReplicaDataType): StateKind {
  return type === 'lww' || type === 'siblings' ? 'kv' : type;
}

export const EMPTY_STATE: { [K in StateKind]: StateByKind[K] } = {
  kv: { values: [] },
  set: { elements: [] },
  counter: { value: 0 },
};

/** A history that does not match the contract's shapes: names the event's index and the field. */
export class HistoryShapeError extends Error {
  override readonly name = 'HistoryShapeError';
  constructor(
    readonly index: number,
    readonly field: string,
    readonly detail: string,
    what = 'op',
  ) {
    super(`${what} at history index ${index}: field "${field}": ${detail}`);
  }
}

export const kvStateSchema = z.object({
  values: z.array(z.unknown()),
  ts: z.array(z.number()).optional(),
});
export const setStateSchema = z.object({ elements: z.array(z.unknown()) });
export const counterStateSchema = z.object({ value: z.number().finite() });

const STATE_SCHEMAS: { [K in StateKind]: z.ZodType<StateByKind[K]> } = {
  kv: kvStateSchema as z.ZodType<KvState>,
  set: setStateSchema,
  counter: counterStateSchema,
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Same acceptance as the kind's zod schema, without allocating (except for a missing ts). */
function fastState<K extends StateKind>(kind: K, raw: unknown): StateByKind[K] | undefined {
  if (!isObject(raw)) return undefined;
  if (kind === 'kv') {
    if (!Array.isArray(raw.values)) return undefined;
    const ts = raw.ts;
    if (ts !== undefined) {
      if (!Array.isArray(ts)) return undefined;
      for (let i = 0; i < ts.length; i++) if (typeof ts[i] !== 'number') return undefined;
    }
    return raw as unknown as StateByKind[K];
  }
  if (kind === 'set') {
    return Array.isArray(raw.elements) ? (raw as unknown as StateByKind[K]) : undefined;
  }
  const v = raw.value;
  return typeof v === 'number' && Number.isFinite(v)
    ? (raw as unknown as StateByKind[K])
    : undefined;
}

function zodFailure(
  schema: z.ZodType,
  raw: unknown,
  index: number,
  prefix: string,
  what: string,
): HistoryShapeError {
  const parsed = schema.safeParse(raw);
  const issue = parsed.success ? undefined : parsed.error.issues[0];
  const path = issue === undefined ? '' : issue.path.map(String).join('.');
  const field = path === '' ? prefix : `${prefix}.${path}`;
  return new HistoryShapeError(index, field, issue?.message ?? 'unexpected shape', what);
}

/** A replica-read's state of `key` (the completion at history index `index`), checked. */
export function parseState<K extends StateKind>(
  kind: K,
  raw: unknown,
  index: number,
  key: string,
): StateByKind[K] {
  const state = fastState(kind, raw);
  if (state !== undefined) return state;
  throw zodFailure(STATE_SCHEMAS[kind], raw, index, `value.keys.${key}`, 'replica-read');
}

/** The string a key is known by in `keys` objects (client ops may use numbers). */
export function keyString(key: Key | undefined): string {
  return key === undefined ? '' : String(key);
}

/**
 * An identity for a value or element that a Map/Set compares correctly: numbers and strings
 * stand for themselves; anything else becomes a canonical JSON string behind a prefix (NUL, J).
 * A string that itself starts with NUL gets a prefix too (NUL, S), so that no string passes
 * for another value. A bigint (an integer beyond 2^53) is the number when a double holds it
 * exactly, else its digits as JSON.
 */
export type ValueId = number | string;
export function valueId(v: unknown): ValueId {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.charCodeAt(0) === 0 ? `\u0000S${v}` : v;
  if (typeof v === 'bigint') {
    const n = Number(v);
    if (Number.isFinite(n) && BigInt(n) === v) return n;
  }
  return `\u0000J${canonicalJson(v)}`;
}

/** The value an id stands for (inverse of valueId, bigints read back exactly). */
export function valueOfId(id: ValueId): unknown {
  if (typeof id !== 'string' || id.charCodeAt(0) !== 0) return id;
  if (id.startsWith('\u0000S')) return id.slice(2);
  return id.startsWith('\u0000J') ? parseJson(id.slice(2)) : id;
}

function canonicalJson(v: unknown): string {
  if (v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  // Integers by exact value, so that a double and a bigint of one value have one text.
  if (typeof v === 'number') return Number.isFinite(v) ? numberText(v) : 'null';
  if (typeof v === 'bigint') {
    const n = Number(v);
    return Number.isFinite(n) && BigInt(n) === v ? numberText(n) : v.toString();
  }
  return JSON.stringify(v) ?? 'null';
}

// --- final reads -------------------------------------------------------------------------------

export interface FinalRead {
  /** The replica: a node name, or `process P` in the Jepsen-style fallback. */
  replica: string;
  round: number;
  /** History index of the read's invoke (the first one, for a process's fallback reads). */
  index: number;
  call: number;
  return: number;
  /** True when a key the read lacks is absent on the replica (replica-read ops). */
  complete: boolean;
}

export interface FinalRound<S> {
  round: number;
  /** When the round's last ok read completed (ns). */
  time: number;
  /** The round's ok reads, by replica name. */
  reads: FinalRead[];
  /** Replicas with no ok read in this round. */
  missing: string[];
  /**
   * Per key, the state each read holds, by position in `reads`: undefined when the read lacks
   * the key (see `stateAt`). One map per round rather than one per read: a million key states
   * are grouped in one pass.
   */
  byKey: Map<string, Array<S | undefined>>;
  /**
   * Per key, the union of the owners the round's reads name for it (replica-read states that
   * carry `owners`; see replica-owners.ts). A key not here is judged on every replica.
   */
  owners: Map<string, ReadonlySet<string>>;
}

export type FinalReadSource = 'replica-read' | 'final-read' | 'none';

export interface FinalReads<S> {
  source: FinalReadSource;
  /** Every replica seen (replica-read invokes, or processes with a final read). */
  replicas: string[];
  /** Rounds in order; the fallback has one round (0). */
  rounds: FinalRound<S>[];
  /** Time (ns) of the heal (`heal-all-stop`), else of the last nemesis event; null if none. */
  healTime: number | null;
}

export const REPLICA_READ = 'replica-read';
export const HEAL = 'heal-all-stop';

const replicaReadInvokeSchema = z.object({ node: z.string().min(1), round: z.number().int() });
const replicaReadCompletionSchema = z.object({
  node: z.string(),
  round: z.number(),
  keys: z.record(z.string(), z.unknown()),
});

export function healTime(events: readonly HistoryEvent[]): number | null {
  let heal: number | null = null;
  let lastNemesis: number | null = null;
  for (const e of events) {
    if (!isNemesisEvent(e)) continue;
    lastNemesis = e.time;
    if (e.f === HEAL) heal = e.time;
  }
  return heal ?? lastNemesis;
}

/** A replica-read's node and round (from its invoke), and its `keys` object when ok. */
function replicaReadHead(op: ClientOp): {
  node: string;
  round: number;
  keys?: Record<string, unknown>;
} {
  const inv = op.invoke.value;
  const head = isObject(inv) ? inv : undefined;
  if (
    head === undefined ||
    typeof head.node !== 'string' ||
    head.node === '' ||
    typeof head.round !== 'number' ||
    !Number.isInteger(head.round)
  ) {
    throw zodFailure(replicaReadInvokeSchema, inv, op.invoke.index, 'value', 'replica-read');
  }
  const node = head.node;
  const round = head.round;
  if (op.status !== 'ok') return { node, round };
  const c = op.completion!;
  const value = c.value;
  if (!isObject(value) || !isObject(value.keys)) {
    throw zodFailure(replicaReadCompletionSchema, value, c.index, 'value', 'replica-read');
  }
  return { node, round, keys: value.keys };
}

/** A client read's completion value as a state (Jepsen-style fallback). */
export function clientReadState<K extends StateKind>(
  kind: K,
  completion: HistoryEvent,
): StateByKind[K] {
  const v = completion.value;
  if (kind === 'kv') {
    // A register read of nil is absent; a single value is one live value.
    const values = Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
    return { values } as StateByKind[K];
  }
  if (kind === 'set') {
    if (!Array.isArray(v)) {
      throw new HistoryShapeError(
        completion.index,
        'value',
        'expected an array of elements',
        'read',
      );
    }
    return { elements: v } as StateByKind[K];
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new HistoryShapeError(completion.index, 'value', 'expected a number', 'read');
  }
  return { value: v } as StateByKind[K];
}

type Input = { events: readonly HistoryEvent[]; ops: readonly ClientOp[] };

// Several checkers of one run read the same final states: parse them once per ops array.
const cache = new WeakMap<
  readonly ClientOp[],
  { events: readonly HistoryEvent[]; byKind: Map<StateKind, FinalReads<unknown>> }
>();

export function collectFinalReads<K extends StateKind>(
  input: Input,
  kind: K,
): FinalReads<StateByKind[K]> {
  let entry = cache.get(input.ops);
  if (entry === undefined || entry.events !== input.events) {
    entry = { events: input.events, byKind: new Map() };
    cache.set(input.ops, entry);
  }
  const hit = entry.byKind.get(kind);
  if (hit !== undefined) return hit as FinalReads<StateByKind[K]>;
  const heal = healTime(input.events);
  const replicaOps = input.ops.filter((op) => op.f === REPLICA_READ);
  const reads =
    replicaOps.length > 0
      ? fromReplicaReads(replicaOps, kind, heal)
      : fromClientReads(input.ops, kind, heal);
  entry.byKind.set(kind, reads as FinalReads<unknown>);
  return reads;
}

function byReplica(a: { replica: string }, b: { replica: string }): number {
  return a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0;
}

function fromReplicaReads<K extends StateKind>(
  replicaOps: readonly ClientOp[],
  kind: K,
  heal: number | null,
): FinalReads<StateByKind[K]> {
  const replicas = new Set<string>();
  type Pending = { read: FinalRead; keys: Record<string, unknown>; at: number };
  const byRound = new Map<number, Map<string, Pending>>();
  for (const op of replicaOps) {
    const { node, round, keys } = replicaReadHead(op);
    replicas.add(node);
    let reads = byRound.get(round);
    if (reads === undefined) {
      reads = new Map();
      byRound.set(round, reads);
    }
    if (keys === undefined) continue;
    // Two ok reads of one node in one round: the later one stands.
    reads.set(node, {
      read: {
        replica: node,
        round,
        index: op.invoke.index,
        call: op.call,
        return: op.return,
        complete: true,
      },
      keys,
      at: op.completion!.index,
    });
  }
  const all = [...replicas].sort();
  const rounds: FinalRound<StateByKind[K]>[] = [];
  for (const [round, pending] of [...byRound].sort(([a], [b]) => a - b)) {
    const list = [...pending.values()].sort((a, b) => byReplica(a.read, b.read));
    const byKey = new Map<string, Array<StateByKind[K] | undefined>>();
    const owners = new OwnerUnion();
    for (let position = 0; position < list.length; position++) {
      const { keys, at } = list[position]!;
      const names = Object.keys(keys);
      for (let j = 0; j < names.length; j++) {
        const key = names[j]!;
        const state = parseState(kind, keys[key], at, key);
        const claimed = claimedOwners(state);
        if (claimed === null) {
          throw new HistoryShapeError(
            at,
            `value.keys.${key}.owners`,
            'expected an array of node names',
            'replica-read',
          );
        }
        if (claimed !== undefined) owners.add(key, claimed);
        let states = byKey.get(key);
        if (states === undefined) {
          states = new Array<StateByKind[K] | undefined>(list.length);
          byKey.set(key, states);
        }
        states[position] = state;
      }
    }
    rounds.push(
      finalRound(
        round,
        list.map((p) => p.read),
        all,
        byKey,
        owners.byKey,
      ),
    );
  }
  return { source: 'replica-read', replicas: all, rounds, healTime: heal };
}

function finalRound<S>(
  round: number,
  reads: FinalRead[],
  replicas: readonly string[],
  byKey: Map<string, Array<S | undefined>>,
  owners: Map<string, ReadonlySet<string>> = new Map(),
): FinalRound<S> {
  const seen = new Set(reads.map((r) => r.replica));
  let time = 0;
  for (const r of reads) time = Math.max(time, r.return);
  const missing = replicas.filter((n) => !seen.has(n));
  // An owner named that was never read at all could not be read either.
  const named = new Set<string>();
  for (const set of new Set(owners.values())) for (const o of set) named.add(o);
  for (const o of [...named].sort()) if (!seen.has(o) && !missing.includes(o)) missing.push(o);
  return { round, time, reads, missing, byKey, owners };
}

/**
 * The Jepsen-style fallback: per process, its last ok read of each key invoked after the heal
 * (every read when the history has no nemesis event).
 */
export function finalClientReads(ops: readonly ClientOp[], heal: number | null): ClientOp[] {
  const after = heal ?? Number.NEGATIVE_INFINITY;
  const last = new Map<string, ClientOp>();
  for (const op of ops) {
    if (op.f !== 'read' || op.status !== 'ok' || op.call < after) continue;
    // ops are in invoke order: a later read of the same key replaces an earlier one.
    last.set(`${typeof op.process}:${op.process}\u0000${keyString(op.key)}`, op);
  }
  return [...last.values()];
}

function fromClientReads<K extends StateKind>(
  ops: readonly ClientOp[],
  kind: K,
  heal: number | null,
): FinalReads<StateByKind[K]> {
  const finals = finalClientReads(ops, heal);
  if (finals.length === 0) return { source: 'none', replicas: [], rounds: [], healTime: heal };
  const byProcess = new Map<string, { read: FinalRead; ops: ClientOp[] }>();
  for (const op of finals) {
    const replica = `process ${op.process}`;
    let p = byProcess.get(replica);
    if (p === undefined) {
      p = {
        read: {
          replica,
          round: 0,
          index: op.invoke.index,
          call: op.call,
          return: op.return,
          complete: false,
        },
        ops: [],
      };
      byProcess.set(replica, p);
    }
    p.ops.push(op);
    p.read.index = Math.min(p.read.index, op.invoke.index);
    p.read.call = Math.min(p.read.call, op.call);
    p.read.return = Math.max(p.read.return, op.return);
  }
  const list = [...byProcess.values()].sort((a, b) => byReplica(a.read, b.read));
  const byKey = new Map<string, Array<StateByKind[K] | undefined>>();
  list.forEach(({ ops: reads }, position) => {
    for (const op of reads) {
      const key = keyString(op.key);
      let states = byKey.get(key);
      if (states === undefined) {
        states = new Array<StateByKind[K] | undefined>(list.length);
        byKey.set(key, states);
      }
      states[position] = clientReadState(kind, op.completion!);
    }
  });
  const replicas = list.map((p) => p.read.replica);
  return {
    source: 'final-read',
    replicas,
    rounds: [
      finalRound(
        0,
        list.map((p) => p.read),
        replicas,
        byKey,
      ),
    ],
    healTime: heal,
  };
}

/**
 * What the read at `position` holds for a key (undefined: that read says nothing about it, or
 * its replica does not own the key: `owners` is the key's entry in `round.owners`).
 */
export function stateAt<S>(
  round: FinalRound<S>,
  kind: StateKind,
  states: ReadonlyArray<S | undefined> | undefined,
  position: number,
  owners?: ReadonlySet<string>,
): S | undefined {
  const read = round.reads[position]!;
  if (owners !== undefined && !judges(owners, read.replica)) return undefined;
  return states?.[position] ?? (read.complete ? (EMPTY_STATE[kind] as S) : undefined);
}

/**
 * What each replica judged for `key` holds in a round: a complete read that lacks the key holds
 * the empty state; an incomplete (client) read that lacks it says nothing and is left out, as
 * is a replica that does not own the key when its owners are named.
 */
export function statesOfKey<K extends StateKind>(
  round: FinalRound<StateByKind[K]>,
  kind: K,
  key: string,
): Array<{ replica: string; state: StateByKind[K]; read: FinalRead }> {
  const states = round.byKey.get(key);
  const owners = round.owners.get(key);
  const out: Array<{ replica: string; state: StateByKind[K]; read: FinalRead }> = [];
  round.reads.forEach((read, i) => {
    const state = stateAt(round, kind, states, i, owners);
    if (state !== undefined) out.push({ replica: read.replica, state, read });
  });
  return out;
}

// --- small shared helpers ------------------------------------------------------------------------

export const nsToMs = (ns: number): number => Math.round(ns / 1e3) / 1e3;

/** "a, b and c" / "a, b, c and 4 more" (at most `max` named; `total` counts them all). */
export function listOf(items: readonly unknown[], max = 10, total = items.length): string {
  const shown = items.slice(0, max).map((v) => (typeof v === 'string' ? v : stringifyJson(v)));
  const rest = total - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/** Values (written, read) listed as JSON, so that "7" and 7 read differently. */
export function listValues(values: readonly unknown[], max = 10): string {
  const shown = values.slice(0, max).map((v) => stringifyJson(v) ?? 'undefined');
  return listOf(shown, max, values.length);
}

/** How sentences name a key ("key s7"; a history without keys has the one key ""). */
export function keyLabel(key: string): string {
  return key === '' ? 'the unkeyed history' : `key ${key}`;
}

/** At most `max` sentences, then one saying how many more there are. */
export function capSentences(sentences: readonly string[], max = 20): string[] {
  if (sentences.length <= max) return [...sentences];
  return [
    ...sentences.slice(0, max),
    `${sentences.length - max} more findings like these (see the per-key results)`,
  ];
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Ops grouped by key string, keeping invoke order. */
export function opsByKey(
  ops: readonly ClientOp[],
  keep: (op: ClientOp) => boolean,
): Map<string, ClientOp[]> {
  const out = new Map<string, ClientOp[]>();
  for (const op of ops) {
    if (!keep(op)) continue;
    const k = keyString(op.key);
    let list = out.get(k);
    if (list === undefined) {
      list = [];
      out.set(k, list);
    }
    list.push(op);
  }
  return out;
}

/** Nearest-rank percentiles; null for no samples. */
export interface LatencyStats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
export function latencyStats(samples: number[]): LatencyStats | null {
  if (samples.length === 0) return null;
  const s = Float64Array.from(samples).sort();
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  return { count: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1]! };
}
