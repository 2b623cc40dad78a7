import type { Gen } from '../core/generator.js';
import { Rng } from '../core/random.js';

export interface SimulatedOp<T> {
  thread: number;
  op: T;
  /** When the op started (ns of virtual time). */
  at: number;
  /** When it completed. */
  end: number;
}

export interface SimulateOptions {
  threads: number;
  seed: number;
  /** Virtual latency of every op, ns (default 1 ms); or a function of the op's position. */
  latencyNs?: number | ((i: number) => number);
  /** Stop after this many ops (default 100,000). */
  maxOps?: number;
  /** Stop when virtual time passes this (default ∞). */
  maxTimeNs?: number;
  /** How long a worker told "pending" without a wake time waits before asking again (default 1 ms). */
  pollNs?: number;
}

/**
 * Runs a generator against instant fake workers in virtual time, exactly as the runner's
 * interpreter would (same asking order rules, `busy` counting), and returns the ops in start
 * order. Deterministic for a seed: what the property tests and the generator bench use.
 */
export function simulate<T>(gen: Gen<T>, options: SimulateOptions): SimulatedOp<T>[] {
  const { threads, seed } = options;
  const maxOps = options.maxOps ?? 100_000;
  const maxTime = options.maxTimeNs ?? Number.POSITIVE_INFINITY;
  const poll = options.pollNs ?? 1_000_000;
  const latency = options.latencyNs ?? 1_000_000;
  const root = new Rng(seed);
  const rngs = Array.from({ length: threads }, (_, t) => root.fork(`thread-${t}`));
  // When each worker asks next, and until when it is busy (has an op assigned or in flight).
  const askAt = new Array<number>(threads).fill(0);
  const busyUntil = new Array<number>(threads).fill(-1);
  const finished = new Array<boolean>(threads).fill(false);
  const out: SimulatedOp<T>[] = [];
  let g: Gen<T> | undefined = gen;
  while (g !== undefined && out.length < maxOps) {
    let t = -1;
    for (let i = 0; i < threads; i++) {
      if (!finished[i] && (t < 0 || (askAt[i] as number) < (askAt[t] as number))) t = i;
    }
    if (t < 0) break;
    const now = askAt[t] as number;
    if (now > maxTime) break;
    let busy = 0;
    for (let i = 0; i < threads; i++) if (i !== t && (busyUntil[i] as number) > now) busy++;
    const s = g.next({ time: now, thread: t, threads, busy, rng: rngs[t] as Rng });
    if (s === undefined) {
      g = undefined;
      break;
    }
    g = s.next;
    if (s.kind === 'op') {
      const lat = typeof latency === 'number' ? latency : latency(out.length);
      const end = s.at + lat;
      out.push({ thread: t, op: s.op, at: s.at, end });
      busyUntil[t] = end;
      askAt[t] = end;
    } else {
      // Woken at its time, or at the next completion elsewhere, or after a poll interval.
      let wake = s.wakeAt ?? now + poll;
      if (s.wakeAt === undefined) {
        for (let i = 0; i < threads; i++) {
          const b = busyUntil[i] as number;
          if (i !== t && b > now && b < wake) wake = b;
        }
      }
      askAt[t] = Math.max(wake, now + 1);
    }
  }
  return out;
}
