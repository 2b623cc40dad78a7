/**
 * The distributed node: any node coordinates any client operation.
 *
 * Eventual records (kv, set, counter): the coordinator builds the state the operation adds and
 * replicates it to the key's preference list, answering after W acks; an owner that looks down
 * is replaced by the next healthy node clockwise, which keeps the state as a hint for it (sloppy
 * quorum) and hands it over when the owner is back. Reads ask R replicas, join the replies and,
 * once every replica answered or the timeout passed, repair the replicas that were behind.
 * Anti-entropy compares bucket digests with a random peer each interval and exchanges what
 * differs, so replicas converge without reads.
 *
 * Linearizable registers: CASPaxos with the key's N preference-list nodes as acceptors (strict,
 * never sloppy), through the replica layer's proposer; while a key's owners change, the quorums
 * of the change's current phase (register-handover.ts).
 */
import type { Config } from '../config.js';
import { failed, type Json, ok, type Reply, unknown } from '../http/reply.js';
import type { MembershipAdminApi } from '../http/routes.js';
import type { Quorum, StoreApi } from '../http/server.js';
import { BadMessage, PeerError, type Transport } from '../net/transport.js';
import { changes, Proposer } from '../paxos/proposer.js';
import { type AcceptorConfig, majorityConfig } from '../paxos/quorums.js';
import { configAt, sameSet } from '../paxos/transition.js';
import {
  AcceptReplySchema,
  type Change,
  type PaxosReply,
  type PaxosRequest,
  PrepareReplySchema,
  type RecordItem,
  type RecordType,
  type ReplicaApi,
  ReplicaInputError,
  type State,
} from '../replica/types.js';
import { DigestIndex, recordId } from './digest-index.js';
import { fastGetReply, fastMergeReply, fastPeerRequest } from './fast-parse.js';
import { LinPhases } from './lin-phases.js';
import { MemberStates, type MemberStateWire, type MemberStatus } from './member-states.js';
import { Membership } from './membership.js';
import {
  AE_BUCKETS,
  AeFetchReplySchema,
  AeSummaryReplySchema,
  batches,
  GetReplySchema,
  GossipReplySchema,
  HANDOFF_PAGE,
  HandoffFetchReplySchema,
  LIN_KEYS_PAGE,
  LinKeysReplySchema,
  LinPhaseReplySchema,
  MAX_AE_RECORDS,
  MAX_BATCH,
  MAX_BATCH_BYTES,
  MergeReplySchema,
  MoveReadyReplySchema,
  type PeerRequest,
  PeerRequestSchema,
} from './messages.js';
import { Placement } from './placement.js';
import { RangeHandoff } from './range-handoff.js';
import { RegisterHandover } from './register-handover.js';

type Log = (level: 'debug' | 'info' | 'warn', line: string) => void;

interface Target {
  node: string;
  /** Set when `node` stands in for an unreachable owner (sloppy quorum). */
  hintFor?: string;
}

/** Tally of one coordinated round: whether anything may have reached a replica. */
interface Round<T> {
  oks: Array<{ target: Target; value: T }>;
  /** Some attempt may have been applied (sent, or applied locally). */
  maybeApplied: boolean;
  errors: string[];
}

const canon = (s: State | null | undefined) => (s ? JSON.stringify(s) : '');

/** Reply validators: the hand-written fast path where it applies, else the zod schema. */
const mergeReply = { parse: (v: unknown) => fastMergeReply(v) ?? MergeReplySchema.parse(v) };
const getReply = { parse: (v: unknown) => fastGetReply(v) ?? GetReplySchema.parse(v) };

export class StoreNode implements StoreApi {
  readonly n: number;
  /** Who is a member, with versions (gossiped, persisted); the rings follow from it. */
  readonly states: MemberStates;
  readonly placement: Placement;
  readonly membership: Membership;
  private readonly handoffDriver: RangeHandoff;
  private started = false;
  /** When this node heard each node's current membership entry (ms). */
  private readonly learnedAt = new Map<string, number>();
  /** Start time of every write this node coordinates that has not answered yet, by write id. */
  private readonly writesInFlight = new Map<number, number>();
  private writeIds = 0;
  private readonly index: DigestIndex;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly startedAt = Date.now();
  private readonly ae = {
    rounds: 0,
    failedRounds: 0,
    lastRoundAt: 0,
    lastPeer: '',
    bucketsDiffering: 0,
    pushed: 0,
    pulled: 0,
    lastSyncWith: {} as Record<string, number>,
    running: false,
  };
  private readonly handoff = { delivered: 0, attempts: 0, running: false };
  private readonly repairs = { sent: 0 };
  private readonly proposer: Proposer;
  /** Tail of the queue of CASPaxos operations per key (see lin()). */
  private readonly linQueue = new Map<string, Promise<void>>();
  /** The acceptor-set phase of each membership change (persisted; register-handover.ts). */
  private readonly linPhases: LinPhases;
  private readonly registerHandover: RegisterHandover;
  /** CASPaxos operations this node runs, by sequence number (see linPhaseReady). */
  private readonly linInFlight = new Set<number>();
  private linSeq = 0;
  /** The sequence number when a phase was last raised here: operations up to it began before. */
  private linRaisedAt = 0;
  private handoffCache:
    | { node: string; version: number; size: number; ids: Array<[string, RecordType, string]> }
    | undefined;

  constructor(
    private readonly cfg: Config,
    private readonly replica: ReplicaApi,
    private readonly transport: Transport,
    private readonly log: Log,
  ) {
    this.n = cfg.n;
    const known = new Set([...cfg.pool.keys(), cfg.id]);
    this.states = new MemberStates(
      known,
      cfg.members.map((id): [string, { status: MemberStatus; version: number }] => [
        id,
        { status: 'member', version: 0 },
      ]),
      MemberStates.fileIn(cfg.dataDir),
    );
    this.placement = new Placement(this.states, cfg.vnodes, cfg.n, cfg.id);
    this.membership = new Membership(
      cfg.id,
      [...known].sort(),
      cfg.suspectTimeoutMs,
      cfg.phiThreshold,
    );
    this.index = new DigestIndex(cfg.id, this.placement, cfg.n, replica);
    this.proposer = new Proposer(cfg.id);
    this.linPhases = new LinPhases(LinPhases.fileIn(cfg.dataDir));
    this.registerHandover = new RegisterHandover({
      self: cfg.id,
      phases: this.linPhases,
      install: async (peer, version, phase) => {
        if (peer === cfg.id) return this.linPhaseReady(cfg.id, version, phase);
        return LinPhaseReplySchema.parse(
          await this.transport.request(
            peer,
            { t: 'lin-phase', node: cfg.id, version, phase },
            Math.max(cfg.requestTimeoutMs, 1000),
          ),
        ).ready;
      },
      movingKeys: async (peer, version) => {
        if (peer === cfg.id) return this.movingRegisters(null, Number.POSITIVE_INFINITY).keys;
        const keys: string[] = [];
        let after: string | null = null;
        do {
          const page = LinKeysReplySchema.parse(
            await this.transport.request(
              peer,
              { t: 'lin-keys', node: cfg.id, version, after },
              Math.max(cfg.requestTimeoutMs, 5000),
            ),
          );
          keys.push(...page.keys);
          after = page.next;
        } while (after !== null);
        return keys;
      },
      rewrite: async (key) => (await this.lin(key, changes.read(), true)).status === 200,
      log: (level, line) => this.log(level, line),
    });
    this.states.onChange((changed) => {
      const now = Date.now();
      for (const id of changed) this.learnedAt.set(id, now);
      this.placement.rebuild();
      if (this.started) this.index.rebuild();
      this.log(
        'info',
        `membership: ${this.states
          .entries()
          .map(([id, st]) => `${id}=${st.status}@${st.version}`)
          .join(' ')}`,
      );
    });
    this.handoffDriver = new RangeHandoff({
      self: cfg.id,
      states: this.states,
      placement: this.placement,
      streaming: cfg.handoffStreaming,
      exchangeTables: (peer) => this.exchangeTables(peer),
      moveReady: async (peer, version) =>
        MoveReadyReplySchema.parse(
          await this.transport.request(
            peer,
            { t: 'move-ready', node: cfg.id, version },
            Math.max(cfg.requestTimeoutMs, 1000),
          ),
        ).ready,
      fetchPage: async (peer, version, after) => {
        const reply = HandoffFetchReplySchema.parse(
          await this.transport.request(
            peer,
            { t: 'handoff-fetch', node: cfg.id, version, after },
            Math.max(cfg.requestTimeoutMs, 5000),
          ),
        );
        if (!reply.ready) throw new Error(`${peer} does not know this node as joining yet`);
        return reply;
      },
      applyLocal: (items) => this.applyLocal(items),
      push: async (peer, items) => {
        MergeReplySchema.parse(
          await this.transport.request(
            peer,
            { t: 'merge', items },
            Math.max(cfg.requestTimeoutMs, 5000),
          ),
        );
      },
      storedRecords: () => this.replica.entries(),
      stored: (type, key) => this.replica.get(type, key),
      pendingHints: () => Object.values(this.replica.pendingHints()).reduce((a, b) => a + b, 0),
      moveRegisters: (version, peers) => this.registerHandover.advance(version, peers),
      log: (level, line) => this.log(level, line),
    });
  }

  /** Builds the digest index and starts gossip, hint delivery and anti-entropy. */
  start(): void {
    this.started = true;
    this.index.rebuild();
    const every = (ms: number, fn: () => unknown) => {
      const t = setInterval(() => {
        if (!this.closed) fn();
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.cfg.gossipIntervalMs, () => void this.gossipRound());
    every(250, () => void this.deliverHints());
    every(250, () => void this.handoffDriver.tick());
    if (this.cfg.antiEntropyIntervalMs > 0) {
      every(this.cfg.antiEntropyIntervalMs, () => void this.antiEntropyRound());
    }
  }

  stop(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
  }

  /** Every other node that is not known to have left (gossip and anti-entropy partners). */
  private others(): string[] {
    return this.states.withStatus('joining', 'member', 'leaving').filter((m) => m !== this.cfg.id);
  }

  /** Worth sending to now: gossip says alive and the link is up and answering. */
  healthy(node: string): boolean {
    if (node === this.cfg.id) return true;
    return this.membership.alive(node) && this.transport.reachable(node);
  }

  // ------------------------------------------------------------------ peer requests (server side)

  async handlePeer(from: string, body: unknown): Promise<unknown> {
    const fast = fastPeerRequest(body);
    if (fast) return this.serve(from, fast);
    const parsed = PeerRequestSchema.safeParse(body);
    if (!parsed.success) {
      throw new BadMessage(`invalid request: ${parsed.error.issues[0]?.message ?? 'bad shape'}`);
    }
    return this.serve(from, parsed.data);
  }

  /** Serves a validated request (also called directly when this node is its own target). */
  private async serve(from: string, req: PeerRequest): Promise<unknown> {
    switch (req.t) {
      case 'gossip':
        this.membership.merge(
          Object.fromEntries(req.hb.map(([id, gen, n]) => [id, { gen, n }])),
          from,
        );
        if (req.ms) this.states.merge(req.ms);
        return { hb: this.heartbeatsWire(), ms: this.states.wire() };
      case 'handoff-fetch':
        return this.handoffPage(req.node, req.version, req.after);
      case 'move-ready':
        return { ready: this.moveReady(req.node, req.version) };
      case 'merge':
        await this.applyLocal(req.items, req.hintFor);
        return { ok: true };
      case 'get':
        return { state: this.readLocal(req.type, req.key, req.hintFor) ?? null };
      case 'paxos':
        return this.replica.paxosHandle(req.req);
      case 'lin-phase':
        return { ready: this.linPhaseReady(req.node, req.version, req.phase) };
      case 'lin-keys':
        return this.movingRegisters(req.after, LIN_KEYS_PAGE);
      case 'ae-summary':
        return { diff: this.aeDiff(from, req.buckets) };
      case 'ae-fetch': {
        // Answer within a byte budget; what is left out still differs and comes next round.
        const items: RecordItem[] = [];
        let bytes = 0;
        for (const [type, key] of req.keys) {
          const state = this.replica.get(type, key);
          if (!state) continue;
          bytes += JSON.stringify(state).length + 64;
          if (items.length > 0 && bytes > MAX_BATCH_BYTES) break;
          items.push({ type, key, state });
        }
        return { items };
      }
    }
  }

  /**
   * One page of the records `node` (joining at ≥ `version`) will own, in record-id order after
   * `after`; not ready while this node does not know of the join (its own writes would not yet
   * reach the joiner, so a page served now could miss them).
   */
  private handoffPage(node: string, version: number, after: string | null) {
    const st = this.states.get(node);
    if (st?.status !== 'joining' || st.version < version) {
      return { ready: false, items: [], next: null };
    }
    const ids = this.handoffIds(node, version);
    // the first id after the cursor (ids are sorted)
    let lo = 0;
    let hi = ids.length;
    while (after !== null && lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid]![0] <= after) lo = mid + 1;
      else hi = mid;
    }
    const items: RecordItem[] = [];
    let bytes = 0;
    let last: string | null = null;
    for (let i = lo; i < ids.length; i++) {
      const [id, type, key] = ids[i]!;
      if (items.length >= HANDOFF_PAGE) break;
      const state = this.replica.get(type, key);
      if (!state) continue;
      bytes += JSON.stringify(state).length + 64;
      if (items.length > 0 && bytes > MAX_BATCH_BYTES) break;
      items.push({ type, key, state });
      last = id;
    }
    const more = last !== null && ids[ids.length - 1]![0] !== last;
    return { ready: true, items, next: more ? last : null };
  }

  /**
   * Whether `node`'s entry at ≥ `version` is known here, a joining node is reachable, and every
   * write this node coordinates that began before the entry was heard has answered: from then on, whatever this node acknowledges
   * was sent to the owners that entry implies.
   */
  private moveReady(node: string, version: number): boolean {
    const st = this.states.get(node);
    if (!st || st.version < version) return false;
    // A joiner this node cannot reach yet would miss its writes (they would count on the others).
    if (st.status === 'joining' && !this.transport.reachable(node)) return false;
    const heard = this.learnedAt.get(node) ?? 0;
    for (const started of this.writesInFlight.values()) if (started <= heard) return false;
    return true;
  }

  /**
   * The sorted ids of the records `node` will own, kept between the pages of one hand-off and
   * rebuilt when the store gained records since (sorting every page made a hand-off quadratic).
   */
  private handoffIds(node: string, version: number): Array<[string, RecordType, string]> {
    const size = this.replica.stats().keys;
    const c = this.handoffCache;
    if (c && c.node === node && c.version === version && c.size === size) return c.ids;
    const ids: Array<[string, RecordType, string]> = [];
    for (const { type, key } of this.replica.entries()) {
      if (this.placement.targetOwners(key).includes(node))
        ids.push([recordId(type, key), type, key]);
    }
    ids.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.handoffCache = { node, version, size, ids };
    return ids;
  }

  /**
   * Installs `phase` of `node`'s change at `version` (persisted before answering) and says
   * whether every CASPaxos operation begun here before the latest raise has finished: from then
   * on this node's proposers use that phase's quorums (or a later one's) and nothing older.
   */
  private linPhaseReady(node: string, version: number, phase: number): boolean {
    if (this.linPhases.raise(node, version, phase)) this.linRaisedAt = this.linSeq;
    if (this.linPhases.get(node, version) < phase) return false;
    for (const seq of this.linInFlight) if (seq <= this.linRaisedAt) return false;
    return true;
  }

  /** Registers this node holds acceptor state for whose owners a pending change alters. */
  private movingRegisters(after: string | null, limit: number) {
    const keys: string[] = [];
    for (const key of this.replica.paxosKeys()) {
      if (after !== null && key <= after) continue;
      if (!sameSet(this.placement.readOwners(key), this.placement.targetOwners(key)))
        keys.push(key);
    }
    keys.sort();
    const page = keys.slice(0, limit);
    return { keys: page, next: keys.length > page.length ? page[page.length - 1]! : null };
  }

  /**
   * The quorums of the key's CASPaxos operations: majorities of its owners, except while its
   * owners change, when the moving node's phase picks a configuration of the transition (read
   * again before every phase of every operation). Undefined while more than one node moves:
   * the phases of two changes do not combine, so no operation starts then.
   */
  private linConfig(key: string): AcceptorConfig | undefined {
    const old = this.placement.readOwners(key);
    const target = this.placement.targetOwners(key);
    if (sameSet(old, target)) return majorityConfig(old);
    const movers = this.states.withStatus('joining', 'leaving');
    if (movers.length !== 1) return undefined;
    const mover = movers[0]!;
    const phase = this.linPhases.get(mover, this.states.get(mover)?.version ?? 0);
    return configAt(old, target, phase);
  }

  /** Sends our membership table and heartbeats to `peer` and merges its answer. */
  private async exchangeTables(peer: string): Promise<MemberStateWire[]> {
    const hb = this.membership.snapshot();
    const wire = Object.entries(hb).map(([id, h]): [string, number, number] => [id, h.gen, h.n]);
    const reply = GossipReplySchema.parse(
      await this.transport.request(
        peer,
        { t: 'gossip', hb: wire, ms: this.states.wire() },
        this.cfg.gossipIntervalMs * 4,
      ),
    );
    this.membership.merge(
      Object.fromEntries(reply.hb.map(([id, gen, n]) => [id, { gen, n }])),
      peer,
    );
    if (reply.ms) this.states.merge(reply.ms);
    return reply.ms ?? [];
  }

  private heartbeatsWire(): Array<[string, number, number]> {
    return Object.entries(this.membership.snapshot()).map(([id, hb]) => [id, hb.gen, hb.n]);
  }

  /** Joins items into this node's store, or holds them as hints for `hintFor`. */
  private async applyLocal(items: readonly RecordItem[], hintFor?: string): Promise<void> {
    await Promise.all(
      items.map(async ({ type, key, state }) => {
        if (hintFor !== undefined && hintFor !== this.cfg.id) {
          await this.replica.addHint(hintFor, type, key, state);
          return;
        }
        if (await this.replica.merge(type, key, state)) this.index.update(type, key);
      }),
    );
  }

  private readLocal(type: RecordType, key: string, hintFor?: string): State | undefined {
    let state = this.replica.get(type, key);
    if (hintFor !== undefined && hintFor !== this.cfg.id) {
      const hint = this.replica.hintsFor(hintFor).find((h) => h.type === type && h.key === key);
      if (hint) state = state ? this.replica.join(state, hint.state) : hint.state;
    }
    return state;
  }

  // ------------------------------------------------------------------ sending

  /**
   * Sends a request to a node and validates its reply; this node's own requests are served
   * directly (no network, no validation of what we built ourselves).
   */
  private async call<T>(
    node: string,
    body: PeerRequest,
    timeoutMs: number,
    schema: { parse(v: unknown): T },
  ): Promise<T> {
    if (node === this.cfg.id) return (await this.serve(node, body)) as T;
    return schema.parse(await this.transport.request(node, body, Math.max(1, timeoutMs)));
  }

  /**
   * The owners (for a write, old and new owners of a moving range; for a read, the current
   * owners), with a healthy stand-in for each owner that looks down (sloppy quorum).
   */
  private targets(
    key: string,
    sloppy: boolean,
    forWrite = false,
  ): { targets: Target[]; spare: string[] } {
    const pref = forWrite ? this.placement.writeOwners(key) : this.placement.readOwners(key);
    if (!sloppy) return { targets: pref.map((node) => ({ node })), spare: [] };
    const readRing = this.placement.readRingMembers();
    const spare = this.placement
      .walk(key)
      .filter((x) => !pref.includes(x) && (forWrite || readRing.includes(x)) && this.healthy(x));
    const targets: Target[] = [];
    for (const owner of pref) {
      if (this.healthy(owner)) targets.push({ node: owner });
      else {
        const stand = spare.shift();
        targets.push(stand === undefined ? { node: owner } : { node: stand, hintFor: owner });
      }
    }
    return { targets, spare };
  }

  /**
   * Sends `request(target)` to every target, resolving as soon as `need` succeeded (the rest
   * keep running and are reported through `onLate`). A target that fails is replaced by the
   * next spare node standing in for the same owner, when sloppy quorums are on.
   */
  private quorumRound<T>(
    key: string,
    need: number,
    sloppy: boolean,
    deadline: number,
    request: (t: Target, timeoutMs: number) => Promise<T>,
    onLate?: (round: Round<T>) => void,
    /** The targets when the caller already chose them (saves walking the ring twice). */
    planned?: { targets: Target[]; spare: string[] },
  ): Promise<Round<T>> {
    const { targets, spare } = planned ?? this.targets(key, sloppy);
    const round: Round<T> = { oks: [], maybeApplied: false, errors: [] };
    return new Promise((resolve) => {
      let inFlight = 0;
      let done = false;
      const finish = () => {
        if (!done && (round.oks.length >= need || inFlight === 0)) {
          done = true;
          resolve(round);
        }
        if (done && inFlight === 0) onLate?.(round);
      };
      const attempt = (t: Target) => {
        inFlight++;
        if (t.node === this.cfg.id) round.maybeApplied = true;
        request(t, deadline - Date.now()).then(
          (value) => {
            round.maybeApplied = true;
            round.oks.push({ target: t, value });
            inFlight--;
            finish();
          },
          (e: unknown) => {
            if (!(e instanceof PeerError && e.kind === 'not-sent')) round.maybeApplied = true;
            round.errors.push(e instanceof Error ? e.message : String(e));
            const stand = sloppy && Date.now() < deadline ? spare.shift() : undefined;
            if (stand !== undefined) attempt({ node: stand, hintFor: t.hintFor ?? t.node });
            inFlight--;
            finish();
          },
        );
      };
      for (const t of targets) attempt(t);
    });
  }

  // ------------------------------------------------------------------ eventual operations

  /**
   * Replicates the state an operation adds. `build` runs only once some target looks healthy, so
   * an operation refused with 412 left no trace. `unsentIsCertain` is false for counters: the
   * coordinator's slot already counts the delta, so a later increment from this node would carry
   * it; such a write is reported as unknown (503) even if nothing was sent.
   */
  private async write(
    type: RecordType,
    key: string,
    build: () => State,
    w: number,
    unsentIsCertain = true,
  ): Promise<Reply> {
    const id = ++this.writeIds;
    this.writesInFlight.set(id, Date.now());
    try {
      return await this.replicate(type, key, build, w, unsentIsCertain);
    } finally {
      this.writesInFlight.delete(id);
    }
  }

  private async replicate(
    type: RecordType,
    key: string,
    build: () => State,
    w: number,
    unsentIsCertain: boolean,
  ): Promise<Reply> {
    const planned = this.targets(key, this.cfg.hintedHandoff, true);
    if (!planned.targets.some((t) => this.healthy(t.node)) && !planned.spare.length) {
      return failed(412, `no replica of ${key} looks reachable; nothing was sent`);
    }
    // A moving range: W acks among the old owners and among the new ones, whichever way it ends.
    const need = Math.min(w + this.placement.extraAcks(key), planned.targets.length);
    const item: RecordItem = { type, key, state: build() };
    const deadline = Date.now() + this.cfg.requestTimeoutMs;
    const round = await this.quorumRound(
      key,
      need,
      this.cfg.hintedHandoff,
      deadline,
      async (t, ms) => {
        const body: PeerRequest = { t: 'merge', items: [item] };
        if (t.hintFor !== undefined) body.hintFor = t.hintFor;
        await this.call(t.node, body, ms, mergeReply);
      },
      undefined,
      planned,
    );
    if (round.oks.length >= need) {
      // An lww write's timestamp is the order it takes among writes: clients record it, so a
      // lost write can be shown next to the one that beat it.
      const st = item.state as { t?: unknown; ts?: unknown };
      return st.t === 'lww' && typeof st.ts === 'number'
        ? ok({ acks: round.oks.length, ts: st.ts })
        : ok({ acks: round.oks.length });
    }
    const why = `only ${round.oks.length} of ${need} write acks (${round.errors.slice(0, 3).join('; ')})`;
    return round.maybeApplied || !unsentIsCertain
      ? unknown(why)
      : failed(412, why + '; nothing was sent');
  }

  /** Reads R replicas and joins their states; repairs stale replicas once all have answered. */
  private async read(
    type: RecordType,
    key: string,
    r: number,
  ): Promise<{ state: State | undefined } | { reply: Reply }> {
    const deadline = Date.now() + this.cfg.requestTimeoutMs;
    const round = await this.quorumRound(
      key,
      r,
      this.cfg.hintedHandoff,
      deadline,
      async (t, ms) => {
        const body: PeerRequest = { t: 'get', type, key };
        if (t.hintFor !== undefined) body.hintFor = t.hintFor;
        return (await this.call(t.node, body, ms, getReply)).state;
      },
      this.cfg.readRepair ? (all) => void this.readRepair(type, key, all) : undefined,
    );
    if (round.oks.length < r) {
      // A read changes nothing, so its failure is never ambiguous about state; 503 keeps the
      // rule "5xx = not known to have completed" simple for clients.
      return {
        reply: unknown(`only ${round.oks.length} of ${r} read replies (${round.errors[0]})`),
      };
    }
    return { state: this.joinAll(round.oks.map((o) => o.value)) };
  }

  private joinAll(states: ReadonlyArray<State | null>): State | undefined {
    let acc: State | undefined;
    for (const s of states) if (s) acc = acc ? this.replica.join(acc, s) : s;
    return acc;
  }

  private async readRepair(type: RecordType, key: string, round: Round<State | null>) {
    const merged = this.joinAll(round.oks.map((o) => o.value));
    if (!merged) return;
    const want = canon(merged);
    const item: RecordItem = { type, key, state: merged };
    for (const { target, value } of round.oks) {
      if (canon(value) === want) continue;
      const body: PeerRequest = { t: 'merge', items: [item] };
      if (target.hintFor !== undefined) body.hintFor = target.hintFor;
      this.repairs.sent++;
      this.call(target.node, body, this.cfg.requestTimeoutMs, mergeReply).catch(() => {});
    }
  }

  private guard(fn: () => Promise<Reply>): Promise<Reply> {
    return fn().catch((e: unknown) => {
      if (e instanceof ReplicaInputError) return failed(400, e.message);
      throw e;
    });
  }

  kvGet(key: string, q: Quorum): Promise<Reply> {
    return this.guard(async () => {
      const res = await this.read('kv', key, q.r ?? this.cfg.r);
      if ('reply' in res) return res.reply;
      const view = this.replica.kvView(res.state);
      return ok({ values: view.values, context: view.context });
    });
  }

  kvPut(key: string, value: Json, context: string | undefined, q: Quorum): Promise<Reply> {
    return this.guard(async () => {
      return this.write(
        'kv',
        key,
        () => this.replica.kvWrite(key, value, context, Date.now()),
        q.w ?? this.cfg.w,
      );
    });
  }

  kvDelete(key: string, context: string | undefined, q: Quorum): Promise<Reply> {
    return this.guard(async () => {
      return this.write(
        'kv',
        key,
        () => this.replica.kvWrite(key, undefined, context, Date.now()),
        q.w ?? this.cfg.w,
      );
    });
  }

  setGet(key: string, q: Quorum): Promise<Reply> {
    return this.guard(async () => {
      const res = await this.read('set', key, q.r ?? this.cfg.r);
      if ('reply' in res) return res.reply;
      return ok({ value: this.replica.setView(res.state) });
    });
  }

  setAdd(key: string, element: Json, q: Quorum): Promise<Reply> {
    return this.guard(() =>
      this.write('set', key, () => this.replica.setAdd(key, element), q.w ?? this.cfg.w),
    );
  }

  setRemove(key: string, element: Json, q: Quorum): Promise<Reply> {
    return this.guard(async () => {
      // The remove retires the element's dots this coordinator observes through a read.
      const res = await this.read('set', key, q.r ?? this.cfg.r);
      if ('reply' in res) {
        return failed(
          412,
          `could not read the set before removing: ${String((res.reply.body as { error?: string }).error)}`,
        );
      }
      return this.write(
        'set',
        key,
        () => this.replica.setRemove(key, element, res.state),
        q.w ?? this.cfg.w,
      );
    });
  }

  counterGet(key: string, q: Quorum): Promise<Reply> {
    return this.guard(async () => {
      const res = await this.read('counter', key, q.r ?? this.cfg.r);
      if ('reply' in res) return res.reply;
      return ok({ value: this.replica.counterView(res.state) });
    });
  }

  counterAdd(key: string, delta: number, q: Quorum): Promise<Reply> {
    return this.guard(() =>
      this.write(
        'counter',
        key,
        () => this.replica.counterAdd(key, delta),
        q.w ?? this.cfg.w,
        false,
      ),
    );
  }

  // ------------------------------------------------------------------ CASPaxos

  /**
   * One CASPaxos operation. Operations on the same key coordinated by this node run one at a
   * time (a local queue), so that local clients of a hot key do not duel each other with
   * ballots; nodes still duel each other, which the proposer's backoff resolves.
   */
  private async lin(key: string, change: Change, isRead = false): Promise<Reply> {
    const deadline = Date.now() + this.cfg.requestTimeoutMs;
    const prev = this.linQueue.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = (prev ?? Promise.resolve()).then(() => mine);
    this.linQueue.set(key, tail);
    try {
      if (prev) {
        const waited = await Promise.race([
          prev.then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), Math.max(0, deadline - Date.now()))),
        ]);
        if (!waited) {
          return failed(
            412,
            'timed out queued behind earlier operations on this key; nothing was sent',
          );
        }
      }
      return await this.propose(key, change, isRead, deadline);
    } finally {
      release();
      if (this.linQueue.get(key) === tail) this.linQueue.delete(key);
    }
  }

  private async propose(
    key: string,
    change: Change,
    isRead: boolean,
    deadline: number,
  ): Promise<Reply> {
    const first = this.linConfig(key);
    if (!first) {
      return failed(412, 'more than one membership change is in progress; nothing was sent');
    }
    for (const phase of [first.prepare, first.accept]) {
      const up = phase.acceptors.filter((a) => this.healthy(a)).length;
      if (up < phase.quorum) {
        return failed(
          412,
          `only ${up} of ${phase.acceptors.length} acceptors look reachable (${phase.quorum} needed); nothing was sent`,
        );
      }
    }
    let config = first;
    const timeoutMs = Math.max(1, deadline - Date.now());
    const seq = ++this.linSeq;
    this.linInFlight.add(seq);
    let result: Awaited<ReturnType<Proposer['propose']>>;
    try {
      result = await this.proposer.propose(key, change, {
        acceptors: [...new Set([...first.prepare.acceptors, ...first.accept.acceptors])],
        // read before every phase: a phase raised meanwhile applies to what is sent next
        configuration: () => {
          config = this.linConfig(key) ?? config;
          return config;
        },
        timeoutMs,
        send: async (node: string, msg: PaxosRequest): Promise<PaxosReply> => {
          if (node === this.cfg.id) return this.replica.paxosHandle(msg);
          const reply = await this.transport.request(node, { t: 'paxos', req: msg }, timeoutMs);
          // the reply's schema follows from the request (cheaper than trying a union)
          return msg.t === 'prepare'
            ? PrepareReplySchema.parse(reply)
            : AcceptReplySchema.parse(reply);
        },
      });
    } finally {
      this.linInFlight.delete(seq);
    }
    if (!result.ok) return unknown(`consensus not reached (${result.reason})`);
    if (!result.applied && !isRead) {
      return {
        status: 409,
        body: { error: 'cas precondition failed', outcome: 'failed', value: result.value },
      };
    }
    return ok({ value: result.value });
  }

  linGet(key: string): Promise<Reply> {
    return this.lin(key, changes.read(), true);
  }

  linPut(key: string, value: Json): Promise<Reply> {
    return this.lin(key, changes.write(value));
  }

  /** Applies when the current value deep-equals `from` (object key order ignored; null = absent). */
  linCas(key: string, from: Json, to: Json): Promise<Reply> {
    return this.lin(key, changes.cas(from, to));
  }

  // ------------------------------------------------------------------ background work

  private async gossipRound(): Promise<void> {
    this.membership.beat();
    const others = this.others();
    if (others.length === 0) return;
    const peer = others[Math.floor(Math.random() * others.length)]!;
    try {
      await this.exchangeTables(peer);
    } catch {
      // Gossip is best effort: a missing answer is what the failure detector measures.
    }
  }

  private async deliverHints(): Promise<void> {
    if (this.handoff.running) return;
    this.handoff.running = true;
    try {
      for (const [owner, count] of Object.entries(this.replica.pendingHints())) {
        if (count === 0) continue;
        const st = this.states.get(owner);
        if (!st || st.status === 'left') {
          await this.rerouteHints(owner);
          continue;
        }
        if (!this.healthy(owner)) continue;
        const items = batches(this.replica.hintsFor(owner))[0] ?? [];
        this.handoff.attempts++;
        try {
          MergeReplySchema.parse(
            await this.transport.request(owner, { t: 'merge', items }, this.cfg.requestTimeoutMs),
          );
          await this.replica.clearHints(owner, items);
          this.handoff.delivered += items.length;
          this.log('info', `handed ${items.length} hinted records to ${owner}`);
        } catch (e) {
          this.log('debug', `hint delivery to ${owner} failed: ${(e as Error).message}`);
        }
      }
    } finally {
      this.handoff.running = false;
    }
  }

  /**
   * Hints for a node that has left go to the record's current owners instead: each owner (old
   * and new, when the range moves) must take it before the hint is dropped.
   */
  private async rerouteHints(owner: string): Promise<void> {
    const items = batches(this.replica.hintsFor(owner))[0] ?? [];
    const delivered: typeof items = [];
    for (const item of items) {
      const targets = this.placement.writeOwners(item.key).filter((x) => x !== owner);
      try {
        await Promise.all(
          targets.map((t) =>
            this.call(
              t,
              { t: 'merge', items: [{ type: item.type, key: item.key, state: item.state }] },
              this.cfg.requestTimeoutMs,
              mergeReply,
            ),
          ),
        );
        delivered.push(item);
      } catch (e) {
        this.log('debug', `rerouting a hint for ${owner} failed: ${(e as Error).message}`);
      }
    }
    if (delivered.length > 0) {
      await this.replica.clearHints(owner, delivered);
      this.handoff.delivered += delivered.length;
      this.log('info', `rerouted ${delivered.length} hints held for ${owner} (left) to the owners`);
    }
  }

  /** Responder side: which of our buckets differ from the initiator's, with our records in them. */
  private aeDiff(peer: string, theirs: readonly string[]) {
    const mine = this.index.summary(peer);
    const differing = new Set<number>();
    for (let i = 0; i < AE_BUCKETS; i++) if (mine[i] !== theirs[i]) differing.add(i);
    const byBucket = new Map<number, Array<[RecordType, string, string]>>();
    for (const b of differing) byBucket.set(b, []);
    for (const rec of this.index.records(peer, differing)) {
      byBucket.get(rec.bucket)?.push([rec.type, rec.key, rec.digest]);
    }
    // Bound the answer: whole buckets up to MAX_AE_RECORDS; the others are compared next round.
    const out: Array<{ bucket: number; records: Array<[RecordType, string, string]> }> = [];
    let total = 0;
    for (const [bucket, records] of byBucket) {
      if (out.length > 0 && total + records.length > MAX_AE_RECORDS) break;
      out.push({ bucket, records });
      total += records.length;
    }
    return out;
  }

  private async antiEntropyRound(): Promise<void> {
    if (this.ae.running) return;
    const candidates = this.others().filter((p) => this.healthy(p));
    if (candidates.length === 0) return;
    const peer = candidates[Math.floor(Math.random() * candidates.length)]!;
    this.ae.running = true;
    const timeout = Math.max(this.cfg.requestTimeoutMs, 5000);
    try {
      const reply = AeSummaryReplySchema.parse(
        await this.transport.request(
          peer,
          { t: 'ae-summary', buckets: this.index.summary(peer) },
          timeout,
        ),
      );
      const buckets = new Set(reply.diff.map((d) => d.bucket));
      const mine = new Map(
        this.index.records(peer, buckets).map((rec) => [recordId(rec.type, rec.key), rec]),
      );
      const pull: Array<[RecordType, string]> = [];
      const theirIds = new Set<string>();
      for (const d of reply.diff) {
        for (const [type, key, digest] of d.records) {
          const id = recordId(type, key);
          theirIds.add(id);
          if (mine.get(id)?.digest !== digest) pull.push([type, key]);
        }
      }
      const pulled = new Set(pull.map(([type, key]) => recordId(type, key)));
      const push: RecordItem[] = [];
      for (const [id, rec] of mine) {
        if (pulled.has(id) || !theirIds.has(id)) {
          const state = this.replica.get(rec.type, rec.key);
          if (state) push.push({ type: rec.type, key: rec.key, state });
        }
      }
      for (let i = 0; i < pull.length; i += MAX_BATCH) {
        const got = AeFetchReplySchema.parse(
          await this.transport.request(
            peer,
            { t: 'ae-fetch', keys: pull.slice(i, i + MAX_BATCH) },
            timeout,
          ),
        );
        await this.applyLocal(got.items);
        this.ae.pulled += got.items.length;
      }
      for (const items of batches(push)) {
        MergeReplySchema.parse(await this.transport.request(peer, { t: 'merge', items }, timeout));
        this.ae.pushed += items.length;
      }
      if (pull.length + push.length > 0) {
        this.log(
          'info',
          `anti-entropy with ${peer}: ${buckets.size} buckets differed, pulled ${pull.length}, pushed ${push.length}`,
        );
      }
      this.ae.rounds++;
      this.ae.bucketsDiffering = buckets.size;
      this.ae.lastPeer = peer;
      this.ae.lastRoundAt = Date.now();
      this.ae.lastSyncWith[peer] = Date.now();
    } catch (e) {
      this.ae.failedRounds++;
      this.log('debug', `anti-entropy with ${peer} failed: ${(e as Error).message}`);
    } finally {
      this.ae.running = false;
    }
  }

  // ------------------------------------------------------------------ membership admin

  /** GET /admin/membership, POST /admin/join, POST /admin/leave (see README "Membership"). */
  readonly membershipAdmin: MembershipAdminApi = {
    view: () => this.membershipView(),
    join: (node) => this.adminChange(node, 'join'),
    leave: (node) => this.adminChange(node, 'leave'),
  };

  membershipView(): Json {
    const self = this.states.get(this.cfg.id);
    return {
      self: this.cfg.id,
      status: self?.status ?? null,
      version: self?.version ?? 0,
      members: Object.fromEntries(
        this.states
          .entries()
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([id, st]) => [id, { status: st.status, version: st.version }]),
      ),
      readRing: [...this.placement.readRingMembers()],
      targetRing: [...this.placement.targetRingMembers()],
      movePending: this.states.movePending(),
      handoffStreaming: this.cfg.handoffStreaming,
      handoff: this.handoffDriver.status(),
    };
  }

  /**
   * Accepts a change of membership decided here: bumps the node's version, persists and lets
   * gossip spread it. One change at a time: refused (409) while a node is joining or leaving.
   * Asking again for a change already made answers 200 (so a retry is harmless).
   */
  private adminChange(node: string, change: 'join' | 'leave'): Reply {
    if (node !== this.cfg.id && !this.cfg.pool.has(node)) {
      return failed(400, `${node} is not in this node's --pool (no address to reach it)`);
    }
    const st = this.states.get(node);
    const done =
      change === 'join'
        ? st?.status === 'joining' || st?.status === 'member'
        : st?.status === 'leaving' || st?.status === 'left';
    if (done) return ok({ accepted: true, node, status: st!.status, version: st!.version });
    if (change === 'leave' && st?.status !== 'member') {
      return failed(409, `${node} is not a member (${st?.status ?? 'unknown'})`);
    }
    const moving = this.states.withStatus('joining', 'leaving');
    if (moving.length > 0) {
      return failed(409, `a membership change is in progress (${moving.join(', ')}); try later`);
    }
    if (change === 'leave' && this.placement.targetRingMembers().length - 1 < this.n) {
      return failed(
        409,
        `${node} cannot leave: fewer members than the replication factor would remain`,
      );
    }
    const next = this.states.set(node, change === 'join' ? 'joining' : 'leaving');
    this.log('info', `admin: ${node} ${next.status} (version ${next.version})`);
    if (node !== this.cfg.id) void this.exchangeTables(node).catch(() => {});
    return ok({ accepted: true, node, status: next.status, version: next.version });
  }

  // ------------------------------------------------------------------ introspection

  status(): Json {
    const now = Date.now();
    const members = this.membership.view([...new Set([...this.others(), this.cfg.id])].sort());
    const links = this.transport.linkStates();
    return {
      id: this.cfg.id,
      uptimeMs: now - this.startedAt,
      members: Object.fromEntries(
        Object.entries(members).map(([id, v]) => [
          id,
          {
            ...v,
            link: id === this.cfg.id ? 'self' : (links[id] ?? 'none'),
            healthy: this.healthy(id),
          },
        ]),
      ),
      settings: {
        n: this.cfg.n,
        r: this.cfg.r,
        w: this.cfg.w,
        vnodes: this.cfg.vnodes,
        conflict: this.cfg.conflict,
        storage: this.cfg.storage,
        fsync: this.cfg.fsync,
        readRepair: this.cfg.readRepair,
        hintedHandoff: this.cfg.hintedHandoff,
        antiEntropyIntervalMs: this.cfg.antiEntropyIntervalMs,
        requestTimeoutMs: this.cfg.requestTimeoutMs,
      },
      hints: {
        pending: this.replica.pendingHints(),
        delivered: this.handoff.delivered,
        deliveryAttempts: this.handoff.attempts,
      },
      antiEntropy: {
        rounds: this.ae.rounds,
        failedRounds: this.ae.failedRounds,
        lastRoundMsAgo: this.ae.lastRoundAt ? now - this.ae.lastRoundAt : null,
        lastPeer: this.ae.lastPeer || null,
        bucketsDifferingLastRound: this.ae.bucketsDiffering,
        recordsPulled: this.ae.pulled,
        recordsPushed: this.ae.pushed,
        lastSyncMsAgo: Object.fromEntries(
          Object.entries(this.ae.lastSyncWith).map(([p, t]) => [p, now - t]),
        ),
        // without hashing what changed since the last round (status must stay cheap)
        indexedRecords: this.index.counts().indexed,
        indexPending: this.index.counts().pending,
      },
      membership: this.membershipView(),
      readRepairsSent: this.repairs.sent,
      peerConnections: (({ links: _links, ...rest }) => rest)(this.transport.stats()),
      storage: { ...this.replica.stats() },
    };
  }

  /**
   * Every record this node stores, each with the key's owners (its preference list), then the
   * hints it holds for keys it neither owns nor stores: a key all of whose owners lost it is
   * still named, with its owners, by whoever holds a hint for it.
   */
  *replicaDump(): Iterable<Json> {
    for (const item of this.replica.dump()) {
      const owners = this.placement.readOwners(item.key);
      yield { type: item.type, key: item.key, owners, view: item.view, raw: item.raw };
    }
    const named = new Set<string>();
    for (const hint of this.replica.dumpHints()) {
      const owners = this.placement.readOwners(hint.key);
      if (owners.includes(this.cfg.id) || this.replica.get(hint.type, hint.key) !== undefined) {
        continue;
      }
      // Hints for several owners of one key: the key is named once (its states differ only
      // in which writes each owner missed, and a non-owner's copy is not judged).
      const id = recordId(hint.type, hint.key);
      if (named.has(id)) continue;
      named.add(id);
      yield {
        type: hint.type,
        key: hint.key,
        owners,
        hintFor: hint.hintFor,
        view: hint.view,
        raw: hint.raw,
      };
    }
  }
}
