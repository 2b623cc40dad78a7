/**
 * The seam between the node-local replica layer (storage, data types, Paxos acceptor) and the
 * distributed node (networking, coordination, HTTP). Everything that crosses the wire between
 * nodes is a plain JSON value described here, with a zod schema so a peer's message is
 * validated before it touches state. This file is the source of truth for those shapes.
 *
 * Conventions in the wire shapes:
 * - maps are arrays of `[key, value]` tuples sorted by key (never objects keyed by peer-given
 *   strings, so a hostile key such as `__proto__` cannot reach an object prototype);
 * - every state is in normal form when produced by this layer (sorted, deduplicated), so its
 *   canonical JSON is a stable digest input; states from peers are accepted in any order.
 */
import { z } from 'zod';
import { MAX_PEER_JSON_DEPTH } from '../data/json-limits.js';

// ---------------------------------------------------------------------------------------------
// JSON values

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Nesting deeper than this is rejected (keeps recursive code far from the stack limit). It is the
 * client limit plus the wrapping the store adds, so a peer accepts every value a client may store.
 */
export const MAX_JSON_DEPTH = MAX_PEER_JSON_DEPTH;

export function isJsonValue(v: unknown, depth: number): boolean {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (depth >= MAX_JSON_DEPTH || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.every((x) => isJsonValue(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(v as Record<string, unknown>).every((x) => isJsonValue(x, depth + 1));
}

export const JsonSchema: z.ZodType<Json> = z.custom<Json>((v) => isJsonValue(v, 0), {
  message: `expected a JSON value (finite numbers, nesting at most ${MAX_JSON_DEPTH} deep)`,
});

// ---------------------------------------------------------------------------------------------
// identities

/** A node's id as given by `--id` (also used in ballots and lww tie-breaks). */
export type NodeId = string;
export const NodeIdSchema = z.string().min(1).max(200);

/**
 * An actor that mints dots or owns a counter slot: `nodeId:incarnation`, where the incarnation
 * is random per process start. Coordinators therefore need no durable state to mint unique dots.
 */
export const ActorSchema = z.string().min(1).max(300);
const Counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** One event of one actor: `[actor, counter]`, counter ≥ 1. */
export const DotSchema = z.tuple([ActorSchema, Counter.min(1)]);
export type Dot = z.infer<typeof DotSchema>;

/**
 * A causal context: `vv` says "every dot (actor, 1..n) seen", `cloud` lists dots seen beyond
 * the contiguous prefix. It never claims a dot that was not seen.
 */
export const CausalContextSchema = z.object({
  vv: z.array(z.tuple([ActorSchema, Counter])),
  cloud: z.array(DotSchema),
});
export type CausalContext = z.infer<typeof CausalContextSchema>;

// ---------------------------------------------------------------------------------------------
// replicated eventual states (state-based CRDTs; merge = join)

/** The three kinds of eventually consistent records. */
export type RecordType = 'kv' | 'set' | 'counter';
export const RecordTypeSchema = z.enum(['kv', 'set', 'counter']);

/**
 * `kv` in `lww` mode: the write with the highest `(ts, node, seq)` wins (ts: coordinator's
 * wall-clock ms; seq: a per-process counter breaking ties within one ms). A delete is a
 * tombstone (`deleted: true`, `value: null`) with its own timestamp.
 */
export const LwwStateSchema = z.object({
  t: z.literal('lww'),
  ts: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  node: NodeIdSchema,
  seq: Counter,
  deleted: z.boolean(),
  value: JsonSchema,
});
export type LwwState = z.infer<typeof LwwStateSchema>;

/**
 * A dot kernel: a causal context plus the live dots, each carrying a value. `kv` in `siblings`
 * mode (`t: 'mv'`, a multi-value register: every live dot is a sibling) and the add-wins
 * OR-set (`t: 'orset'`, every live dot carries the element it added) share this shape.
 * Join: a dot survives if both sides have it, or one side has it and the other's context has
 * not seen it; contexts are united.
 */
export const DotEntrySchema = z.tuple([ActorSchema, Counter.min(1), JsonSchema]);
export const MvStateSchema = z.object({
  t: z.literal('mv'),
  ctx: CausalContextSchema,
  dots: z.array(DotEntrySchema),
});
export type MvState = z.infer<typeof MvStateSchema>;
export const OrSetStateSchema = z.object({
  t: z.literal('orset'),
  ctx: CausalContextSchema,
  dots: z.array(DotEntrySchema),
});
export type OrSetState = z.infer<typeof OrSetStateSchema>;

/** PN-counter: per-actor positive and negative totals; join = per-slot max. */
export const PnStateSchema = z.object({
  t: z.literal('pn'),
  p: z.array(z.tuple([ActorSchema, Counter])),
  n: z.array(z.tuple([ActorSchema, Counter])),
});
export type PnState = z.infer<typeof PnStateSchema>;

export const KvStateSchema = z.discriminatedUnion('t', [LwwStateSchema, MvStateSchema]);
export type KvState = LwwState | MvState;

export const StateSchema = z.discriminatedUnion('t', [
  LwwStateSchema,
  MvStateSchema,
  OrSetStateSchema,
  PnStateSchema,
]);
/** Any replicated eventual state. Which `t` a `RecordType` takes: kv → lww|mv, set → orset, counter → pn. */
export type State = LwwState | MvState | OrSetState | PnState;

/** A `(type, key, state)` triple, as carried by replication, read repair, hints and anti-entropy. */
export const RecordItemSchema = z.object({
  type: RecordTypeSchema,
  key: z.string().max(4096),
  state: StateSchema,
});
export type RecordItem = z.infer<typeof RecordItemSchema>;

// ---------------------------------------------------------------------------------------------
// CASPaxos (per key; acceptors are the key's N replicas)

/** Ballots are totally ordered by `(n, node)`. */
export const BallotSchema = z.object({ n: Counter, node: NodeIdSchema });
export type Ballot = z.infer<typeof BallotSchema>;

/** A register's value as Paxos sees it: `null` = absent. */
export type LinValue = Json;

export const AcceptedSchema = z.object({ ballot: BallotSchema, value: JsonSchema });
export type Accepted = z.infer<typeof AcceptedSchema>;

/** What one acceptor holds for one key. */
export const AcceptorStateSchema = z.object({
  promised: BallotSchema.nullable(),
  accepted: AcceptedSchema.nullable(),
});
export type AcceptorState = z.infer<typeof AcceptorStateSchema>;

export const PrepareRequestSchema = z.object({
  t: z.literal('prepare'),
  key: z.string().max(4096),
  ballot: BallotSchema,
});
export type PrepareRequest = z.infer<typeof PrepareRequestSchema>;
export const AcceptRequestSchema = z.object({
  t: z.literal('accept'),
  key: z.string().max(4096),
  ballot: BallotSchema,
  value: JsonSchema,
});
export type AcceptRequest = z.infer<typeof AcceptRequestSchema>;
export const PaxosRequestSchema = z.discriminatedUnion('t', [
  PrepareRequestSchema,
  AcceptRequestSchema,
]);
export type PaxosRequest = PrepareRequest | AcceptRequest;

/** Promise (with what was accepted before, if anything), or a rejection naming the ballot to beat. */
export const PrepareReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), accepted: AcceptedSchema.nullable() }),
  z.object({ ok: z.literal(false), promised: BallotSchema }),
]);
export type PrepareReply = z.infer<typeof PrepareReplySchema>;
export const AcceptReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), promised: BallotSchema }),
]);
export type AcceptReply = z.infer<typeof AcceptReplySchema>;
export type PaxosReply = PrepareReply | AcceptReply;

/**
 * A change function applied by a proposer to the current value (null = absent). `applied:
 * false` means a precondition failed (cas): the value is left as it was.
 */
export type Change = (current: LinValue) => { next: LinValue; applied: boolean };

/** How one proposal reaches its acceptors (the node's transport) and how long it may take. */
export interface ProposeOptions {
  /** The key's acceptors (its N replicas); a majority of them must answer each phase. */
  acceptors: readonly NodeId[];
  /**
   * Deliver one request to one acceptor and resolve with its reply (validate it with
   * `PrepareReplySchema` / `AcceptReplySchema`). Rejecting or never resolving = message lost.
   */
  send(node: NodeId, msg: PaxosRequest): Promise<PaxosReply>;
  /** Whole-operation deadline; after it the outcome is unknown (`reason: 'timeout'`). */
  timeoutMs: number;
  /** Start above this ballot counter (e.g. a hint from an earlier rejection). */
  ballotFloor?: number;
  /** Give up after this many rounds (`reason: 'conflict'`, outcome unknown). Default unlimited. */
  maxRounds?: number;
}

/**
 * `ok: true`: done; `applied: false` means the precondition failed and certainly nothing was
 * changed (cas → 409); `value` is the register's value after the operation. `ok: false`: the
 * outcome is unknown (503): 'timeout' = no quorum before the deadline; 'conflict' = gave up
 * after maxRounds, or an earlier attempt of this operation may have been taken and a newer
 * value's history cannot tell.
 */
export type ProposeResult =
  | { ok: true; value: LinValue; applied: boolean }
  | { ok: false; reason: 'timeout' | 'conflict' };

// ---------------------------------------------------------------------------------------------
// the replica (one node's durable state)

export type StorageMode = 'disk' | 'memory';
export type FsyncMode = 'always' | 'interval' | 'never';
export type ConflictMode = 'lww' | 'siblings';

export interface ReplicaOptions {
  nodeId: NodeId;
  /** Directory holding the log and snapshots (created if missing). Unused with `memory`. */
  dataDir: string;
  storage: StorageMode;
  fsync: FsyncMode;
  /** For `fsync: 'interval'` (default 100 ms). */
  fsyncIntervalMs?: number;
  conflict: ConflictMode;
  /** Compact when the live log exceeds this many bytes (default 64 MiB) and twice the last snapshot. */
  compactBytes?: number;
  /** Diagnostic lines (recovery, truncation, compaction). */
  log?: (line: string) => void;
}

export interface ReplicaStats {
  /** Eventual records plus linearizable registers held. */
  keys: number;
  logBytes: number;
  compactions: number;
  recoveredRecords: number;
  truncatedBytes: number;
}

export interface HintItem {
  type: RecordType;
  key: string;
  state: State;
}

export interface DumpItem {
  type: RecordType | 'lin';
  key: string;
  /** What a client would read (kv: `{values, context}`, set: elements, counter: number, lin: value). */
  view: Json;
  /** The stored state itself (a `State`, or an `AcceptorState` for lin). */
  raw: Json;
}

export interface HintDumpItem {
  type: RecordType;
  key: string;
  /** The owner the hint is held for. */
  hintFor: NodeId;
  view: Json;
  raw: Json;
}

export interface KvView {
  /** The live values: at most one in lww mode (none when deleted), all siblings in siblings mode. */
  values: Json[];
  /** Opaque causal context to pass back with the next write (`''` in lww mode). */
  context: string;
}

/**
 * Thrown for input that is well-formed JSON but wrong for this replica (a state of the wrong
 * kind for the record type or conflict mode, an undecodable context). Map it to a 4xx.
 */
export class ReplicaInputError extends Error {
  override name = 'ReplicaInputError';
}

/**
 * What `Replica` (in `./replica.ts`, `await Replica.open(opts)`) offers. The CASPaxos proposer
 * is `new Proposer(nodeId)` from `../paxos/proposer.ts`: `propose(key, change, ProposeOptions)`
 * with `changes.read()`, `changes.write(v)`, `changes.cas(from, to)` (deep equality); the
 * result's `value` is the client-visible value (acceptors store an envelope `{v, ops}`, which
 * `paxosRead` and `dump` unwrap). States returned by
 * `get`/`hintsFor` are shared, read-only snapshots: serialise them, never mutate them.
 */
export interface ReplicaApi {
  readonly nodeId: NodeId;
  readonly conflict: ConflictMode;
  close(): Promise<void>;

  // -- eventual records (state-based replication) ------------------------------------------
  get(type: RecordType, key: string): State | undefined;
  /**
   * Join `state` into the stored record. Resolves once the change (or, if nothing changed,
   * every earlier change) is durable per the fsync policy. Throws ReplicaInputError if the
   * state's kind does not fit `type` and the conflict mode. Validate peers' input with
   * `RecordItemSchema` first.
   */
  merge(type: RecordType, key: string, state: State): Promise<boolean>;
  /** Stable hash of the stored record (`''` if absent); cached, invalidated on change. */
  digest(type: RecordType, key: string): string;
  entries(): Iterable<{ type: RecordType; key: string }>;

  // -- coordinator-side constructors (pure: they store nothing) ------------------------------
  /**
   * The state a client write adds (`value` undefined = delete; `context` from a read's KvView).
   * Siblings mode: a write without context adds a sibling; a delete without context throws
   * ReplicaInputError (it could only remove nothing); a bad context throws too.
   */
  kvWrite(
    key: string,
    value: Json | undefined,
    context: string | undefined,
    nowMs: number,
  ): KvState;
  kvView(state: State | undefined): KvView;
  /** `observed` (optional) lets the add also retire the element's older dots. */
  setAdd(key: string, element: Json, observed?: State): OrSetState;
  /** Removes the element's dots present in `observed` (a read of the set); concurrent adds win. */
  setRemove(key: string, element: Json, observed: State | undefined): OrSetState;
  setView(state: State | undefined): Json[];
  counterAdd(key: string, delta: number): PnState;
  counterView(state: State | undefined): number;
  /** Join two states of the same kind (e.g. the R replies of a read), without storing. */
  join(a: State, b: State): State;

  // -- CASPaxos acceptor (durable before resolving) ------------------------------------------
  paxosPrepare(key: string, ballot: Ballot): Promise<PrepareReply>;
  paxosAccept(key: string, ballot: Ballot, value: LinValue): Promise<AcceptReply>;
  /** Dispatch a validated `PaxosRequest` to the two calls above. */
  paxosHandle(req: PaxosRequest): Promise<PaxosReply>;
  /** Introspection only: the last accepted value (undefined if nothing accepted). */
  paxosRead(key: string): LinValue | undefined;
  /** Every register this acceptor holds state for (a promise or an accepted value). */
  paxosKeys(): Iterable<string>;

  // -- hinted handoff ------------------------------------------------------------------------
  /** Hold `state` for `owner` (joined with any hint already held for the same record). */
  addHint(owner: NodeId, type: RecordType, key: string, state: State): Promise<void>;
  hintsFor(owner: NodeId): HintItem[];
  /** Drop delivered hints; a hint that grew since it was read (newer writes) is kept. */
  clearHints(owner: NodeId, items: readonly HintItem[]): Promise<void>;
  pendingHints(): Record<NodeId, number>;

  // -- introspection -------------------------------------------------------------------------
  dump(): Iterable<DumpItem>;
  /** The hints held for other nodes, one item per record and owner. */
  dumpHints(): Iterable<HintDumpItem>;
  stats(): ReplicaStats;
  /** Write a snapshot and start a fresh log now (also done automatically by size). */
  compact(): Promise<void>;
}
