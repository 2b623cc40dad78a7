/**
 * One node's durable state: the eventual records (kv, set, counter) merged by their joins, the
 * CASPaxos acceptor state per linearizable key, and hints held for unreachable owners. Every
 * change is applied in memory and appended to the log in the same turn; the promise returned
 * to the caller resolves once the record is durable per the fsync policy.
 */
import { randomBytes } from 'node:crypto';
import { join as joinPath } from 'node:path';
import { Context } from '../data/causal-context.js';
import {
  type Crdt,
  counterViewOf,
  crdtFrom,
  decodeContext,
  digestOf,
  joinStates,
  type Kind,
  kvViewOf,
  mvWrite,
  orsetDotsOf,
  setViewOf,
} from '../data/crdt.js';
import {
  EMPTY_ACCEPTOR,
  onAccept,
  onPrepare,
  replayAccept,
  replayPromise,
} from '../paxos/acceptor.js';
import { unwrapLin } from '../paxos/proposer.js';
import { DiskStorage } from '../storage/disk-storage.js';
import { MemoryStorage } from '../storage/memory-storage.js';
import { FatalRecoveryError, type Storage } from '../storage/storage.js';
import {
  type AcceptorState,
  type AcceptReply,
  type Ballot,
  type ConflictMode,
  type DumpItem,
  type HintDumpItem,
  type HintItem,
  type Json,
  type KvState,
  type KvView,
  type LinValue,
  type NodeId,
  type OrSetState,
  type PaxosReply,
  type PaxosRequest,
  type PnState,
  type PrepareReply,
  type RecordType,
  type ReplicaApi,
  ReplicaInputError,
  type ReplicaOptions,
  type ReplicaStats,
  type State,
} from './types.js';

/** Log records (JSON payloads of frames). Short field names: this is the hot path. */
type LogRecord =
  | { r: 'meta'; conflict: ConflictMode }
  | { r: 'm'; ty: RecordType; k: string; s: State }
  | { r: 'p'; k: string; b: Ballot }
  | { r: 'a'; k: string; b: Ballot; v: Json }
  | { r: 'h'; o: NodeId; ty: RecordType; k: string; s: State }
  | { r: 'hc'; o: NodeId; items: Array<[RecordType, string, string]> };

/** A stored record with its normal form and digest cached until the next change. */
class Held {
  private state: State | undefined;
  private hash: string | undefined;
  constructor(readonly crdt: Crdt) {}
  merge(s: State): boolean {
    const changed = this.crdt.merge(s);
    if (changed) {
      this.state = undefined;
      this.hash = undefined;
    }
    return changed;
  }
  get(): State {
    this.state ??= this.crdt.toState();
    return this.state;
  }
  digest(): string {
    this.hash ??= this.crdt.digest();
    return this.hash;
  }
}

interface HeldHint {
  type: RecordType;
  key: string;
  held: Held;
}

const TYPES: readonly RecordType[] = ['kv', 'set', 'counter'];
/**
 * Compact once the log passes this size and twice the last snapshot: recovery replays the
 * snapshot plus the log, so a small threshold keeps restarts fast, while the 2× rule keeps the
 * rewriting cost amortised to a fraction of the bytes logged.
 */
const DEFAULT_COMPACT_BYTES = 4 * 1024 * 1024;

function isEmptyState(s: State): boolean {
  switch (s.t) {
    case 'lww':
      return false;
    case 'mv':
    case 'orset':
      return s.dots.length === 0 && s.ctx.vv.length === 0 && s.ctx.cloud.length === 0;
    case 'pn':
      return s.p.length === 0 && s.n.length === 0;
  }
}

const typeKey = (type: RecordType, key: string): string => `${type}\u0000${key}`;

/** What a client would read from this state alone. */
function viewOf(type: RecordType, s: State): Json {
  if (type === 'kv') return { ...kvViewOf(s) };
  return type === 'set' ? setViewOf(s) : counterViewOf(s);
}

export class Replica implements ReplicaApi {
  readonly nodeId: NodeId;
  readonly conflict: ConflictMode;
  /** Mints dots and owns counter slots: unique per process start, so needs no durable state. */
  readonly actor: string;
  private storage: Storage = new MemoryStorage();
  private readonly records = new Map<RecordType, Map<string, Held>>(
    TYPES.map((t) => [t, new Map()]),
  );
  private readonly paxos = new Map<string, AcceptorState>();
  private readonly hints = new Map<NodeId, Map<string, HeldHint>>();
  private readonly dotCounters = new Map<string, number>();
  private readonly counterTotals = new Map<string, { p: number; n: number }>();
  private lwwSeq = 0;
  private compactions = 0;
  private recoveredRecords = 0;
  private truncatedBytes = 0;
  private readonly compactBytes: number;
  private readonly say: (line: string) => void;
  private readonly storageMode: ReplicaOptions['storage'];
  private compacting: Promise<void> | undefined;

  private constructor(opts: ReplicaOptions) {
    this.nodeId = opts.nodeId;
    this.conflict = opts.conflict;
    this.actor = `${opts.nodeId}:${randomBytes(6).toString('base64url')}`;
    this.compactBytes = opts.compactBytes ?? DEFAULT_COMPACT_BYTES;
    this.say = opts.log ?? (() => {});
    this.storageMode = opts.storage;
  }

  static async open(opts: ReplicaOptions): Promise<Replica> {
    const r = new Replica(opts);
    if (opts.storage === 'disk') {
      if (opts.dataDir === '') throw new Error('storage disk needs a data dir');
      if (opts.fsyncIntervalMs !== undefined && !(opts.fsyncIntervalMs > 0)) {
        throw new Error('fsyncIntervalMs must be positive');
      }
      const { storage, stats } = await DiskStorage.open(
        {
          dir: joinPath(opts.dataDir),
          fsync: opts.fsync,
          ...(opts.fsyncIntervalMs !== undefined ? { fsyncIntervalMs: opts.fsyncIntervalMs } : {}),
          log: r.say,
        },
        (payload) => r.replay(payload),
      );
      r.storage = storage;
      r.recoveredRecords = stats.recoveredRecords;
      r.truncatedBytes = stats.truncatedBytes;
      if (storage.logBytes() === 0)
        await r.storage.append(r.encode({ r: 'meta', conflict: r.conflict }));
      // A long log recovered now would be replayed again at the next start: compact it now
      // (in the background) rather than waiting for the next write to notice.
      r.maybeCompact();
    }
    return r;
  }

  close(): Promise<void> {
    return this.storage.close();
  }

  // -- persistence -----------------------------------------------------------------------------

  private encode(rec: LogRecord): Buffer {
    return Buffer.from(JSON.stringify(rec));
  }

  private persist(rec: LogRecord): Promise<void> {
    const p = this.storage.append(this.encode(rec));
    this.maybeCompact();
    return p;
  }

  private maybeCompact(): void {
    const bytes = this.storage.logBytes();
    if (bytes < this.compactBytes || bytes < 2 * this.storage.snapshotBytes()) return;
    this.compact().catch((e: unknown) => this.say(`replica: compaction failed: ${String(e)}`));
  }

  compact(): Promise<void> {
    if (this.storageMode === 'memory') return Promise.resolve();
    this.compacting ??= this.storage
      .compact(() => this.snapshotRecords())
      .then(() => {
        this.compactions++;
        this.say(`replica: compacted (snapshot ${this.storage.snapshotBytes()} bytes)`);
      })
      .finally(() => {
        this.compacting = undefined;
      });
    return this.compacting;
  }

  /**
   * The live state as log records, captured now (states are immutable values: a change
   * replaces them, never mutates them) and encoded lazily as storage consumes them.
   */
  private snapshotRecords(): Iterable<Buffer> {
    const recs: LogRecord[] = [{ r: 'meta', conflict: this.conflict }];
    for (const [ty, m] of this.records)
      for (const [k, h] of m) recs.push({ r: 'm', ty, k, s: h.get() });
    for (const [k, st] of this.paxos) {
      if (st.accepted) recs.push({ r: 'a', k, b: st.accepted.ballot, v: st.accepted.value });
      if (st.promised) recs.push({ r: 'p', k, b: st.promised });
    }
    for (const [o, m] of this.hints) {
      for (const h of m.values()) recs.push({ r: 'h', o, ty: h.type, k: h.key, s: h.held.get() });
    }
    const encode = (rec: LogRecord): Buffer => this.encode(rec);
    return (function* () {
      for (const rec of recs) yield encode(rec);
    })();
  }

  /** Apply one logged record during recovery (throws on anything unreadable). */
  private replay(payload: Buffer): void {
    const rec = JSON.parse(payload.toString('utf8')) as LogRecord;
    switch (rec.r) {
      case 'meta':
        if (rec.conflict !== this.conflict) {
          throw new FatalRecoveryError(
            `the data dir was written with --conflict ${rec.conflict}; this node runs with --conflict ${this.conflict} (use another data dir)`,
          );
        }
        return;
      case 'm':
        this.checkKind(rec.ty, rec.s, true);
        this.mergeInMemory(rec.ty, rec.k, rec.s);
        return;
      case 'p':
        this.paxos.set(rec.k, replayPromise(this.paxos.get(rec.k) ?? EMPTY_ACCEPTOR, rec.b));
        return;
      case 'a':
        this.paxos.set(rec.k, replayAccept(this.paxos.get(rec.k) ?? EMPTY_ACCEPTOR, rec.b, rec.v));
        return;
      case 'h':
        this.checkKind(rec.ty, rec.s, true);
        this.hintInMemory(rec.o, rec.ty, rec.k, rec.s);
        return;
      case 'hc':
        this.clearInMemory(rec.o, rec.items);
        return;
      default:
        throw new Error(`unknown log record ${JSON.stringify((rec as { r?: unknown }).r)}`);
    }
  }

  // -- eventual records ------------------------------------------------------------------------

  private expectedKind(type: RecordType): Kind {
    if (type === 'kv') return this.conflict === 'lww' ? 'lww' : 'mv';
    return type === 'set' ? 'orset' : 'pn';
  }

  private checkKind(type: RecordType, s: State, recovering = false): void {
    const want = this.expectedKind(type);
    if (s.t === want) return;
    const msg = `a ${type} record takes a ${want} state here (--conflict ${this.conflict}), got ${s.t}`;
    throw recovering ? new FatalRecoveryError(msg) : new ReplicaInputError(msg);
  }

  private mergeInMemory(type: RecordType, key: string, s: State): boolean {
    const m = this.records.get(type)!;
    const h = m.get(key);
    if (h) return h.merge(s);
    if (isEmptyState(s)) return false;
    m.set(key, new Held(crdtFrom(s)));
    return true;
  }

  get(type: RecordType, key: string): State | undefined {
    return this.records.get(type)?.get(key)?.get();
  }

  merge(type: RecordType, key: string, state: State): Promise<boolean> {
    try {
      this.checkKind(type, state);
    } catch (e) {
      return Promise.reject(e);
    }
    if (!this.mergeInMemory(type, key, state)) return this.storage.barrier().then(() => false);
    return this.persist({ r: 'm', ty: type, k: key, s: state }).then(() => true);
  }

  digest(type: RecordType, key: string): string {
    return this.records.get(type)?.get(key)?.digest() ?? '';
  }

  *entries(): Iterable<{ type: RecordType; key: string }> {
    for (const [type, m] of this.records) for (const key of m.keys()) yield { type, key };
  }

  // -- coordinator-side constructors ------------------------------------------------------------

  private nextDot(type: RecordType, key: string): [string, number] {
    const tk = typeKey(type, key);
    const n = (this.dotCounters.get(tk) ?? 0) + 1;
    this.dotCounters.set(tk, n);
    return [this.actor, n];
  }

  kvWrite(
    key: string,
    value: Json | undefined,
    context: string | undefined,
    nowMs: number,
  ): KvState {
    if (this.conflict === 'lww') {
      return {
        t: 'lww',
        ts: Math.max(0, Math.floor(nowMs)),
        node: this.nodeId,
        seq: ++this.lwwSeq,
        deleted: value === undefined,
        value: value ?? null,
      };
    }
    if (value === undefined && context === undefined) {
      // a delete removes exactly the siblings a read returned; without that read it would
      // silently remove nothing
      throw new ReplicaInputError(
        'context: a delete in siblings mode needs the context of a read (GET the key first)',
      );
    }
    const seen = context === undefined ? { vv: [], cloud: [] } : decodeContext(context);
    if (value === undefined) return mvWrite(seen, null, null);
    return mvWrite(seen, this.nextDot('kv', key), value);
  }

  kvView(state: State | undefined): KvView {
    return kvViewOf(state);
  }

  setAdd(key: string, element: Json, observed?: State): OrSetState {
    const [a, n] = this.nextDot('set', key);
    const ctx = new Context();
    ctx.add(a, n);
    if (observed !== undefined) {
      if (observed.t !== 'orset')
        throw new ReplicaInputError(`observed: a ${observed.t} state is not a set`);
      for (const [oa, on] of orsetDotsOf(observed, element)) ctx.add(oa, on);
    }
    return { t: 'orset', ctx: ctx.toWire(), dots: [[a, n, element]] };
  }

  setRemove(key: string, element: Json, observed: State | undefined): OrSetState {
    void key;
    const ctx = new Context();
    if (observed !== undefined) {
      if (observed.t !== 'orset')
        throw new ReplicaInputError(`observed: a ${observed.t} state is not a set`);
      for (const [oa, on] of orsetDotsOf(observed, element)) ctx.add(oa, on);
    }
    return { t: 'orset', ctx: ctx.toWire(), dots: [] };
  }

  setView(state: State | undefined): Json[] {
    return setViewOf(state);
  }

  counterAdd(key: string, delta: number): PnState {
    if (!Number.isSafeInteger(delta)) throw new ReplicaInputError('delta: expected a safe integer');
    const tot = this.counterTotals.get(key) ?? { p: 0, n: 0 };
    const next = delta >= 0 ? { p: tot.p + delta, n: tot.n } : { p: tot.p, n: tot.n - delta };
    if (!Number.isSafeInteger(next.p) || !Number.isSafeInteger(next.n)) {
      throw new ReplicaInputError('delta: this node’s total for the counter would overflow');
    }
    this.counterTotals.set(key, next);
    return {
      t: 'pn',
      p: next.p > 0 ? [[this.actor, next.p]] : [],
      n: next.n > 0 ? [[this.actor, next.n]] : [],
    };
  }

  counterView(state: State | undefined): number {
    return counterViewOf(state);
  }

  join(a: State, b: State): State {
    return joinStates(a, b);
  }

  // -- CASPaxos acceptor -----------------------------------------------------------------------

  paxosPrepare(key: string, ballot: Ballot): Promise<PrepareReply> {
    const { next, reply } = onPrepare(this.paxos.get(key) ?? EMPTY_ACCEPTOR, ballot);
    if (!next) return this.storage.barrier().then(() => reply);
    this.paxos.set(key, next);
    return this.persist({ r: 'p', k: key, b: ballot }).then(() => reply);
  }

  paxosAccept(key: string, ballot: Ballot, value: LinValue): Promise<AcceptReply> {
    const { next, reply } = onAccept(this.paxos.get(key) ?? EMPTY_ACCEPTOR, ballot, value);
    if (!next) return this.storage.barrier().then(() => reply);
    this.paxos.set(key, next);
    return this.persist({ r: 'a', k: key, b: ballot, v: value }).then(() => reply);
  }

  paxosHandle(req: PaxosRequest): Promise<PaxosReply> {
    return req.t === 'prepare'
      ? this.paxosPrepare(req.key, req.ballot)
      : this.paxosAccept(req.key, req.ballot, req.value);
  }

  paxosKeys(): Iterable<string> {
    return this.paxos.keys();
  }

  paxosRead(key: string): LinValue | undefined {
    const acc = this.paxos.get(key)?.accepted;
    return acc ? unwrapLin(acc.value).v : undefined;
  }

  // -- hinted handoff --------------------------------------------------------------------------

  private hintInMemory(owner: NodeId, type: RecordType, key: string, s: State): boolean {
    let m = this.hints.get(owner);
    if (!m) {
      m = new Map();
      this.hints.set(owner, m);
    }
    const tk = typeKey(type, key);
    const h = m.get(tk);
    if (h) return h.held.merge(s);
    if (isEmptyState(s)) return false;
    m.set(tk, { type, key, held: new Held(crdtFrom(s)) });
    return true;
  }

  private clearInMemory(owner: NodeId, items: ReadonlyArray<[RecordType, string, string]>): void {
    const m = this.hints.get(owner);
    if (!m) return;
    for (const [ty, k, d] of items) {
      const tk = typeKey(ty, k);
      if (m.get(tk)?.held.digest() === d) m.delete(tk);
    }
    if (m.size === 0) this.hints.delete(owner);
  }

  addHint(owner: NodeId, type: RecordType, key: string, state: State): Promise<void> {
    try {
      this.checkKind(type, state);
    } catch (e) {
      return Promise.reject(e);
    }
    if (!this.hintInMemory(owner, type, key, state)) return this.storage.barrier();
    return this.persist({ r: 'h', o: owner, ty: type, k: key, s: state });
  }

  hintsFor(owner: NodeId): HintItem[] {
    const m = this.hints.get(owner);
    if (!m) return [];
    return [...m.values()].map((h) => ({ type: h.type, key: h.key, state: h.held.get() }));
  }

  clearHints(owner: NodeId, items: readonly HintItem[]): Promise<void> {
    const m = this.hints.get(owner);
    if (!m) return this.storage.barrier();
    const cleared: Array<[RecordType, string, string]> = [];
    for (const it of items) {
      const h = m.get(typeKey(it.type, it.key));
      if (!h) continue;
      // the delivered state is the held one unless newer writes joined in since
      const same = h.held.get() === it.state || h.held.digest() === digestOf(it.state);
      if (same) cleared.push([it.type, it.key, h.held.digest()]);
    }
    if (cleared.length === 0) return this.storage.barrier();
    this.clearInMemory(owner, cleared);
    return this.persist({ r: 'hc', o: owner, items: cleared });
  }

  pendingHints(): Record<NodeId, number> {
    return Object.fromEntries([...this.hints].map(([o, m]) => [o, m.size]));
  }

  // -- introspection ---------------------------------------------------------------------------

  *dump(): Iterable<DumpItem> {
    for (const [type, m] of this.records) {
      for (const [key, h] of m) {
        const s = h.get();
        yield { type, key, view: viewOf(type, s), raw: s as Json };
      }
    }
    for (const [key, st] of this.paxos) {
      const view = st.accepted ? unwrapLin(st.accepted.value).v : null;
      yield { type: 'lin', key, view, raw: st as Json };
    }
  }

  *dumpHints(): Iterable<HintDumpItem> {
    for (const [owner, m] of this.hints) {
      for (const h of m.values()) {
        const s = h.held.get();
        yield { type: h.type, key: h.key, hintFor: owner, view: viewOf(h.type, s), raw: s as Json };
      }
    }
  }

  stats(): ReplicaStats {
    let keys = this.paxos.size;
    for (const m of this.records.values()) keys += m.size;
    return {
      keys,
      logBytes: this.storage.logBytes(),
      compactions: this.compactions,
      recoveredRecords: this.recoveredRecords,
      truncatedBytes: this.truncatedBytes,
    };
  }
}
