/**
 * Membership view and failure detection. Every node keeps a heartbeat (generation, counter) per
 * member; it bumps its own each gossip round and pushes its table to a random peer, which merges
 * it and answers with its own (push-pull). A member is suspected when its heartbeat has not
 * advanced for suspectTimeoutMs, or earlier when the phi-accrual level (exponential model of the
 * observed inter-arrival times) passes phiThreshold. The generation (start time) makes a
 * restarted node's fresh counter win over its old one.
 *
 * Whose word counts: a member's own report about itself (the entry for X in a table X sent us)
 * is authoritative and replaces what we hold for X, even a higher generation or counter, so a
 * forged or garbled claim about X lasts only until X next talks to us. Second-hand reports (Y
 * about X) may only advance X's counter within the generation X itself last announced to us;
 * before X has spoken to us they may introduce a newer generation. Failure detection keeps
 * working through relays (a live X keeps advancing its counter in every relayed table), while
 * no relay can pin X to a heartbeat X can never beat.
 */
export interface Heartbeat {
  gen: number;
  n: number;
}

interface Entry {
  hb: Heartbeat;
  lastChange: number;
  intervals: number[];
  /** hb.gen was announced by the member itself (second-hand reports cannot change it). */
  firstHand: boolean;
}

/** Heartbeat fields are safe non-negative integers (anything else is dropped as garbage). */
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export interface MemberView {
  status: 'self' | 'up' | 'suspect';
  generation: number;
  heartbeat: number;
  lastHeardMsAgo: number | null;
  phi: number;
}

const WINDOW = 50;

export class Membership {
  private readonly table = new Map<string, Entry>();
  private readonly startedAt = Date.now();

  constructor(
    readonly self: string,
    readonly members: readonly string[],
    private readonly suspectTimeoutMs: number,
    private readonly phiThreshold: number,
  ) {
    this.table.set(self, {
      hb: { gen: Date.now(), n: 0 },
      lastChange: Date.now(),
      intervals: [],
      firstHand: true,
    });
  }

  /** Advances our own heartbeat; returns the table to gossip. */
  beat(): Record<string, Heartbeat> {
    const me = this.table.get(this.self)!;
    me.hb = { gen: me.hb.gen, n: me.hb.n + 1 };
    me.lastChange = Date.now();
    return this.snapshot();
  }

  snapshot(): Record<string, Heartbeat> {
    return Object.fromEntries([...this.table].map(([id, e]) => [id, e.hb]));
  }

  /**
   * Merges a table gossiped by `from` (the authenticated sender); ids outside `members` (the
   * nodes this one can reach: its pool) are ignored. See the class comment for whose word counts.
   */
  merge(remote: Record<string, Heartbeat>, from: string): void {
    const now = Date.now();
    for (const [id, hb] of Object.entries(remote)) {
      if (id === this.self || !this.members.includes(id)) continue;
      if (!isCount(hb.gen) || !isCount(hb.n)) continue;
      const cur = this.table.get(id);
      const firstHand = id === from;
      if (!cur) {
        this.table.set(id, {
          hb: { gen: hb.gen, n: hb.n },
          lastChange: now,
          intervals: [],
          firstHand,
        });
        continue;
      }
      const sameGen = hb.gen === cur.hb.gen;
      const advances = hb.gen > cur.hb.gen || (sameGen && hb.n > cur.hb.n);
      if (firstHand) {
        if (sameGen && hb.n === cur.hb.n) {
          cur.firstHand = true;
          continue;
        }
        // Its own word wins even when it is lower than what we held (a forged or stale claim).
        this.advance(cur, hb, now, sameGen && hb.n > cur.hb.n);
        cur.firstHand = true;
      } else if (advances && (!cur.firstHand || sameGen)) {
        this.advance(cur, hb, now, sameGen);
      }
    }
  }

  private advance(cur: Entry, hb: Heartbeat, now: number, sameRun: boolean): void {
    if (sameRun) {
      cur.intervals.push(now - cur.lastChange);
      if (cur.intervals.length > WINDOW) cur.intervals.shift();
    } else {
      cur.intervals = [];
    }
    cur.hb = { gen: hb.gen, n: hb.n };
    cur.lastChange = now;
  }

  phi(id: string): number {
    const e = this.table.get(id);
    if (!e || id === this.self) return 0;
    const elapsed = Date.now() - e.lastChange;
    const mean =
      e.intervals.length >= 3
        ? e.intervals.reduce((a, b) => a + b, 0) / e.intervals.length
        : this.suspectTimeoutMs / 4;
    // P(no heartbeat for `elapsed`) = exp(-elapsed/mean) under an exponential model.
    return elapsed / Math.max(mean, 1) / Math.LN10;
  }

  /** Believed alive by gossip. A member never heard of is alive for a grace period after start. */
  alive(id: string): boolean {
    if (id === this.self) return true;
    const e = this.table.get(id);
    if (!e) return Date.now() - this.startedAt < this.suspectTimeoutMs;
    const elapsed = Date.now() - e.lastChange;
    return elapsed < this.suspectTimeoutMs && this.phi(id) < this.phiThreshold;
  }

  /** The failure detector's view of `ids` (default: every node it tracks). */
  view(ids: readonly string[] = this.members): Record<string, MemberView> {
    const now = Date.now();
    const out: Record<string, MemberView> = {};
    for (const id of ids) {
      const e = this.table.get(id);
      out[id] = {
        status: id === this.self ? 'self' : this.alive(id) ? 'up' : 'suspect',
        generation: e?.hb.gen ?? 0,
        heartbeat: e?.hb.n ?? 0,
        lastHeardMsAgo: e ? now - e.lastChange : null,
        phi: Math.round(this.phi(id) * 100) / 100,
      };
    }
    return out;
  }
}
