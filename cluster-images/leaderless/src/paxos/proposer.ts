/**
 * The CASPaxos proposer: prepare → a quorum of promises → apply the change to the value with
 * the highest accepted ballot → accept → a quorum of acceptances. Quorums are majorities of the
 * key's acceptors unless a configuration in transition says otherwise (`reconfigure.ts`). Pure
 * logic; the transport is injected (`ProposeOptions.send`), and so is the clock, so tests can
 * simulate time.
 */
import { randomBytes } from 'node:crypto';
import { canonicalJson } from '../data/canonical.js';
import type {
  Accepted,
  Ballot,
  Change,
  LinValue,
  NodeId,
  PaxosReply,
  PaxosRequest,
  ProposeOptions,
  ProposeResult,
} from '../replica/types.js';
import { compareBallots } from './ballot.js';
import { type AcceptorConfig, majorityConfig, type PhaseQuorum } from './quorums.js';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Call `fn` after `ms` unless the returned cancel function is called first. */
  timer(ms: number, fn: () => void): () => void;
  random(): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) =>
    new Promise((resolve) => {
      setTimeout(resolve, ms).unref();
    }),
  timer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
  random: Math.random,
};

/** Change functions for the three register operations. */
export const changes = {
  read: (): Change => (current) => ({ next: current, applied: false }),
  write:
    (value: LinValue): Change =>
    () => ({ next: value, applied: true }),
  /** Applies only if the current value deep-equals `from` (absent = null). */
  cas:
    (
      from: LinValue,
      to: LinValue,
      equal: (a: LinValue, b: LinValue) => boolean = (a, b) =>
        canonicalJson(a) === canonicalJson(b),
    ): Change =>
    (current) =>
      equal(current, from) ? { next: to, applied: true } : { next: current, applied: false },
};

interface PhaseResult {
  oks: PaxosReply[];
  /** Acceptors that answered with a rejection. */
  rejected: number;
  /** Highest ballot counter named in a rejection (0 if none). */
  beat: number;
}

export interface ProposerSettings {
  clock?: Clock;
  /** Per-phase wait before retrying with a higher ballot (default min(timeoutMs, 1000)). */
  roundTimeoutMs?: number;
  /** Backoff between rounds: uniform in [0, min(cap, base · 2^round)) ms. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** The ballots' incarnation part (default random); fixed only by deterministic simulations. */
  incarnation?: string;
}

/**
 * How many recent change ids a register value carries. A retry after an uncertain accept
 * looks for its own id there; only when more than this many changes happened in between does
 * it have to answer "unknown" (reason 'conflict').
 */
export const OP_WINDOW = 16;

/**
 * What acceptors store for a register: `{ v, ops }`, the client-visible value and the ids of
 * the last OP_WINDOW changes applied to it; `null` is absent. Anything else (not written by a
 * proposer) reads as a bare value with no history.
 */
export interface LinEnvelope {
  v: LinValue;
  ops: string[];
}

export function unwrapLin(stored: LinValue): LinEnvelope {
  if (stored === null) return { v: null, ops: [] };
  if (
    typeof stored === 'object' &&
    !Array.isArray(stored) &&
    'v' in stored &&
    Array.isArray(stored.ops) &&
    stored.ops.every((x) => typeof x === 'string')
  ) {
    return { v: stored.v as LinValue, ops: stored.ops as string[] };
  }
  return { v: stored, ops: [] };
}

/**
 * `ProposeOptions` plus, optionally, the key's acceptor configuration (see `quorums.ts`). It is
 * read again before every phase, so a configuration installed while an operation runs governs
 * every message sent afterwards (`reconfigure.ts` relies on this). Without it both phases go to
 * `acceptors` with a majority quorum, as always.
 */
export interface ProposeRequest extends ProposeOptions {
  configuration?: () => AcceptorConfig;
}

export class Proposer {
  private counter = 0;
  private attempts = 0;
  /** Change ids: node id plus a random per-process part, so a restarted node never reuses one. */
  private readonly idPrefix: string;
  /**
   * The ballot's node part: node id plus a random incarnation. A restarted node starts its
   * counter again, and reusing a ballot from before the restart with a different value would
   * let two values be chosen, so ballots must be unique across restarts too.
   */
  readonly ballotNode: string;
  private readonly clock: Clock;

  constructor(
    readonly nodeId: NodeId,
    private readonly settings: ProposerSettings = {},
  ) {
    this.clock = settings.clock ?? realClock;
    const incarnation = settings.incarnation ?? randomBytes(4).toString('base64url');
    this.idPrefix = `${nodeId}.${incarnation}.`;
    this.ballotNode = `${nodeId}:${incarnation}`;
  }

  /** Raise the local ballot counter, e.g. after seeing a higher ballot elsewhere. */
  observe(n: number): void {
    if (n > this.counter) this.counter = n;
  }

  async propose(key: string, change: Change, opts: ProposeRequest): Promise<ProposeResult> {
    const fixed = opts.configuration ? undefined : majorityConfig(opts.acceptors);
    const config = (): AcceptorConfig => fixed ?? opts.configuration!();
    const deadline = this.clock.now() + opts.timeoutMs;
    const roundTimeout = this.settings.roundTimeoutMs ?? Math.min(opts.timeoutMs, 1000);
    const base = this.settings.backoffBaseMs ?? 2;
    const cap = this.settings.backoffCapMs ?? 100;
    this.observe(opts.ballotFloor ?? 0);
    // Attempts whose accept carried our change applied and which some acceptor may have taken.
    // Such a value can still be chosen later (a proposer adopts the highest accepted value), so
    // a retry must never apply the change a second time; each attempt's id travels in the
    // value's op history, which tells a later round whether the attempt made it into the chain.
    const ours: Array<{ ballot: Ballot; value: LinValue; id: string }> = [];

    for (let round = 0; ; round++) {
      if (round > 0) {
        const wait = this.clock.random() * Math.min(cap, base * 2 ** Math.min(round, 20));
        const left = deadline - this.clock.now();
        if (left <= 0) break;
        await this.clock.sleep(Math.min(wait, left));
      }
      if (this.clock.now() >= deadline) break;
      if (opts.maxRounds !== undefined && round >= opts.maxRounds) {
        return { ok: false, reason: 'conflict' };
      }
      this.counter++;
      const ballot: Ballot = { n: this.counter, node: this.ballotNode };
      const until = Math.min(deadline, this.clock.now() + roundTimeout);

      const pq = config().prepare;
      const p = await this.phase(opts, pq, { t: 'prepare', key, ballot }, until);
      this.observe(p.beat);
      if (p.oks.length < pq.quorum) continue;
      let h: Accepted | null = null;
      for (const r of p.oks) {
        const acc = 'accepted' in r ? r.accepted : null;
        if (acc && (h === null || compareBallots(acc.ballot, h.ballot) > 0)) h = acc;
      }
      const cur = unwrapLin(h ? h.value : null);

      let stored: LinValue; // what the acceptors are asked to accept (an envelope)
      let result: { value: LinValue; applied: boolean };
      const hit = ours.find((o) => cur.ops.includes(o.id));
      if (hit) {
        // one of our earlier attempts is already in the latest value's history: finish that
        // value as it is instead of applying the change a second time
        stored = h!.value;
        result = { value: hit.value, applied: true };
      } else if (
        h &&
        cur.ops.length >= OP_WINDOW &&
        ours.some((o) => compareBallots(h.ballot, o.ballot) > 0)
      ) {
        // a newer value whose history window is too short to tell whether it was built on ours
        return { ok: false, reason: 'conflict' };
      } else {
        const { next, applied } = change(cur.v);
        result = { value: next, applied };
        if (applied) {
          const id = this.idPrefix + (++this.attempts).toString(36);
          stored = { v: next, ops: [...cur.ops, id].slice(-OP_WINDOW) };
          const aq = config().accept;
          const a = await this.phase(opts, aq, { t: 'accept', key, ballot, value: stored }, until);
          this.observe(a.beat);
          if (a.oks.length >= aq.quorum) return { ok: true, ...result };
          // unless every acceptor refused it, this value may still be adopted and chosen later
          if (a.rejected < aq.acceptors.length) ours.push({ ballot, value: next, id });
          continue;
        }
        stored = h ? h.value : null; // a read or failed precondition re-proposes what it saw
      }
      const aq = config().accept;
      const a = await this.phase(opts, aq, { t: 'accept', key, ballot, value: stored }, until);
      this.observe(a.beat);
      if (a.oks.length >= aq.quorum) return { ok: true, ...result };
    }
    return { ok: false, reason: 'timeout' };
  }

  /** Send `msg` to the phase's acceptors; settle on a quorum of oks, a lost cause, or `until`. */
  private phase(
    opts: ProposeOptions,
    { acceptors, quorum }: PhaseQuorum,
    msg: PaxosRequest,
    until: number,
  ): Promise<PhaseResult> {
    const n = acceptors.length;
    return new Promise((resolve) => {
      const res: PhaseResult = { oks: [], rejected: 0, beat: 0 };
      let failed = 0;
      let settled = false;
      let cancel = (): void => {};
      const settle = (): void => {
        if (settled) return;
        settled = true;
        cancel();
        resolve(res);
      };
      const check = (): void => {
        if (res.oks.length >= quorum || res.rejected + failed > n - quorum) settle();
      };
      for (const node of acceptors) {
        let p: Promise<PaxosReply>;
        try {
          p = opts.send(node, msg);
        } catch {
          p = Promise.reject(new Error('send threw'));
        }
        p.then(
          (r) => {
            if (settled) return;
            if (r.ok && (msg.t === 'accept' || 'accepted' in r)) res.oks.push(r);
            else if (!r.ok) {
              res.rejected++;
              if (r.promised.n > res.beat) res.beat = r.promised.n;
            } else failed++;
            check();
          },
          () => {
            if (settled) return;
            failed++;
            check();
          },
        );
      }
      const wait = until - this.clock.now();
      if (wait <= 0) settle();
      else if (!settled) cancel = this.clock.timer(wait, settle);
    });
  }
}
