/**
 * CASPaxos under an adversarial in-memory network: message loss, duplication, reordering and
 * delays, several proposers and concurrent clients, simulated time. Every client operation
 * appends a unique token through a change function, so the register's history is a chain of
 * arrays; the checks are independent of the implementation:
 * - all acknowledged values are prefixes of one another (one sequential chain, no two values
 *   chosen at one position), and respect real-time order;
 * - no token appears twice (no change applied twice), an acknowledged append appears, a
 *   precondition failure reported as certain never appears;
 * - a final read extends every acknowledged value.
 */
import { cpSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Replica } from '../replica/replica.js';
import type { Change, Json, PaxosReply, PaxosRequest, ProposeResult } from '../replica/types.js';
import { PaxosRequestSchema } from '../replica/types.js';
import { EMPTY_ACCEPTOR, onAccept, onPrepare } from './acceptor.js';
import { compareBallots } from './ballot.js';
import { type Clock, changes, Proposer } from './proposer.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A discrete-event simulator: virtual time advances only when every promise chain is idle.
 * Real I/O (disk-backed acceptors) takes no virtual time: while some is in flight (`io`), only
 * fault events may run, so a kill can still strike mid-write, but a proposer's round timer can
 * never fire just because the disk was slower than one event-loop turn on a busy machine.
 */
class Sim implements Clock {
  t = 0;
  private events: Array<{
    at: number;
    seq: number;
    fn: () => void | Promise<void>;
    live?: () => boolean;
    fault?: boolean;
  }> = [];
  private seq = 0;
  private inflight = 0;
  constructor(readonly random: () => number) {}
  now(): number {
    return this.t;
  }
  at(delay: number, fn: () => void | Promise<void>, live?: () => boolean): void {
    this.events.push({ at: this.t + delay, seq: this.seq++, fn, ...(live ? { live } : {}) });
  }
  /** Schedule a fault: it may run while real I/O is still in flight. */
  fault(delay: number, fn: () => void | Promise<void>): void {
    this.events.push({ at: this.t + delay, seq: this.seq++, fn, fault: true });
  }
  /** Real I/O that must finish before virtual time moves on to a non-fault event. */
  io<T>(p: Promise<T>): Promise<T> {
    this.inflight++;
    const done = (): void => {
      this.inflight--;
    };
    p.then(done, done);
    return p;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.at(ms, r));
  }
  timer(ms: number, fn: () => void): () => void {
    let live = true;
    this.at(ms, fn, () => live);
    return () => {
      live = false;
    };
  }
  async run(until: Promise<unknown>): Promise<void> {
    let done = false;
    void until.then(() => {
      done = true;
    });
    let idle = 0;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      this.events = this.events.filter((e) => e.live?.() ?? true); // drop cancelled timers
      if (done) return;
      if (this.events.length === 0) {
        // real I/O (disk-backed acceptors) may still be about to schedule something
        if (++idle > 2000) return;
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      idle = 0;
      let best = 0;
      for (let i = 1; i < this.events.length; i++) {
        const e = this.events[i]!;
        const b = this.events[best]!;
        if (e.at < b.at || (e.at === b.at && e.seq < b.seq)) best = i;
      }
      if (this.inflight > 0 && !this.events[best]!.fault) {
        await new Promise((r) => setImmediate(r)); // let the disk finish first
        continue;
      }
      const [ev] = this.events.splice(best, 1);
      this.t = Math.max(this.t, ev!.at);
      await ev!.fn();
    }
  }
}

interface NetConfig {
  loss: number;
  dup: number;
  maxDelay: number;
}

const tokens = (v: Json): string[] => (v === null ? [] : (v as string[]));
const isPrefix = (a: string[], b: string[]): boolean =>
  a.length <= b.length && a.every((x, i) => b[i] === x);

interface Outcome {
  token: string | null;
  kind: 'append' | 'cond' | 'read';
  invoked: number;
  completed: number;
  result: ProposeResult;
}

let simRuns = 0;

interface Faults {
  /** Disk-backed acceptors (fsync never: a kill keeps what reached the kernel) that crash and restart. */
  restarts?: { root: string; count: number };
}

async function simulate(
  seed: number,
  net: NetConfig,
  proposers: number,
  clients: number,
  opsPerClient: number,
  faults: Faults = {},
) {
  const rnd = mulberry32(seed);
  const sim = new Sim(rnd);
  const acceptorIds = ['a1', 'a2', 'a3'];
  const run = ++simRuns; // fast-check re-runs a seed while shrinking: every run gets fresh dirs
  const dirOf = (id: string, gen: number) =>
    join(faults.restarts?.root ?? '', `${run}-${id}-${gen}`);
  const openAcceptor = (id: string, gen: number) =>
    Replica.open({
      nodeId: id,
      dataDir: faults.restarts ? dirOf(id, gen) : '',
      storage: faults.restarts ? 'disk' : 'memory',
      fsync: 'never',
      conflict: 'lww',
    });
  const acceptors = new Map(
    await Promise.all(acceptorIds.map(async (id) => [id, await openAcceptor(id, 0)] as const)),
  );
  const gens = new Map(acceptorIds.map((id) => [id, 0]));
  const down = new Set<string>();
  const dead: Replica[] = [];
  if (faults.restarts) {
    for (let i = 0; i < faults.restarts.count; i++) {
      const id = acceptorIds[Math.floor(rnd() * acceptorIds.length)]!;
      sim.fault(rnd() * 300, async () => {
        if (down.has(id)) return;
        // SIGKILL: the process stops here; what reached the files so far is all that survives
        down.add(id);
        const gen = gens.get(id)!;
        cpSync(dirOf(id, gen), dirOf(id, gen + 1), { recursive: true });
        dead.push(acceptors.get(id)!);
        gens.set(id, gen + 1);
        acceptors.set(id, await openAcceptor(id, gen + 1));
        down.delete(id);
      });
    }
  }
  const send = (node: string, msg: PaxosRequest): Promise<PaxosReply> =>
    new Promise((resolve) => {
      const deliver = (): void => {
        if (down.has(node)) return; // restarting: the message is lost
        // the wire is JSON: round-trip and validate as a peer would
        const wire = PaxosRequestSchema.parse(JSON.parse(JSON.stringify(msg)));
        const gen = gens.get(node);
        void sim.io(acceptors.get(node)!.paxosHandle(wire)).then((reply) => {
          if (gens.get(node) !== gen) return; // killed before it could answer
          if (rnd() < net.loss) return; // reply lost
          sim.at(rnd() * net.maxDelay, () => resolve(JSON.parse(JSON.stringify(reply))));
        });
      };
      if (rnd() >= net.loss) sim.at(rnd() * net.maxDelay, deliver);
      if (rnd() < net.dup) sim.at(rnd() * net.maxDelay * 3, deliver); // a late duplicate
    });
  const props = Array.from(
    { length: proposers },
    (_, i) =>
      new Proposer(`p${i}`, { clock: sim, roundTimeoutMs: 40, backoffBaseMs: 1, backoffCapMs: 20 }),
  );
  const outcomes: Outcome[] = [];
  const client = async (c: number): Promise<void> => {
    const p = props[c % proposers]!;
    for (let i = 0; i < opsPerClient; i++) {
      const r = rnd();
      const token = `c${c}-${i}`;
      let change: Change;
      let kind: Outcome['kind'];
      if (r < 0.2) {
        kind = 'read';
        change = changes.read();
      } else if (r < 0.45) {
        kind = 'cond'; // append only when the chain has even length
        change = (cur) =>
          tokens(cur).length % 2 === 0
            ? { next: [...tokens(cur), token], applied: true }
            : { next: cur, applied: false };
      } else {
        kind = 'append';
        change = (cur) => ({ next: [...tokens(cur), token], applied: true });
      }
      const invoked = sim.now();
      const result = await p.propose('k', change, { acceptors: acceptorIds, send, timeoutMs: 400 });
      outcomes.push({
        token: kind === 'read' ? null : token,
        kind,
        invoked,
        completed: sim.now(),
        result,
      });
    }
  };
  const all = Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  await sim.run(all);
  await all;
  // final read over a healed network
  net.loss = 0;
  net.dup = 0;
  const fin = props[0]!.propose('k', changes.read(), {
    acceptors: acceptorIds,
    send,
    timeoutMs: 10_000,
  });
  await sim.run(fin);
  const result = { outcomes, final: await fin };
  for (const r of [...dead, ...acceptors.values()]) await r.close().catch(() => {});
  return result;
}

function check(outcomes: Outcome[], final: ProposeResult): void {
  expect(final.ok).toBe(true);
  if (!final.ok) return;
  const chain = tokens(final.value);
  expect(new Set(chain).size).toBe(chain.length); // nothing applied twice
  const oks = outcomes.filter((o) => o.result.ok);
  for (const o of oks) {
    if (!o.result.ok) continue;
    const v = tokens(o.result.value);
    expect(isPrefix(v, chain)).toBe(true); // one chain, extended by the final read
    if (o.token !== null) {
      if (o.result.applied) {
        expect(v[v.length - 1]).toBe(o.token);
        expect(chain).toContain(o.token);
      } else {
        expect(chain).not.toContain(o.token); // reported as certainly not applied
        expect(o.kind).toBe('cond');
        expect(v.length % 2).toBe(1); // and its precondition really failed on what it saw
      }
    }
  }
  // real time: an operation that began after another completed sees at least its value
  for (const a of oks) {
    for (const b of oks) {
      if (a.completed < b.invoked && a.result.ok && b.result.ok) {
        expect(isPrefix(tokens(a.result.value), tokens(b.result.value))).toBe(true);
      }
    }
  }
}

describe('CASPaxos', () => {
  it('acknowledged operations form one sequential chain under loss, duplication and reordering', async () => {
    let acked = 0;
    let unknown = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.record({
          loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
          dup: fc.double({ min: 0, max: 0.3, noNaN: true }),
          maxDelay: fc.integer({ min: 0, max: 20 }),
        }),
        fc.integer({ min: 1, max: 3 }),
        async (seed, net, proposers) => {
          const { outcomes, final } = await simulate(seed, { ...net }, proposers, 4, 6);
          check(outcomes, final);
          acked += outcomes.filter((o) => o.result.ok).length;
          unknown += outcomes.filter((o) => !o.result.ok).length;
        },
      ),
      { numRuns: 120 },
    );
    // the test exercised both outcomes
    expect(acked).toBeGreaterThan(0);
    expect(unknown).toBeGreaterThan(0);
  });

  it('stays safe when disk-backed acceptors are killed and restarted from their logs', async () => {
    const root = await mkdtemp(join(tmpdir(), 'leaderless-paxos-'));
    try {
      let acked = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.integer(),
          fc.record({
            loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
            dup: fc.double({ min: 0, max: 0.2, noNaN: true }),
            maxDelay: fc.integer({ min: 0, max: 10 }),
          }),
          async (seed, net) => {
            const { outcomes, final } = await simulate(seed, { ...net }, 2, 4, 6, {
              restarts: { root, count: 12 },
            });
            check(outcomes, final);
            acked += outcomes.filter((o) => o.result.ok).length;
          },
        ),
        { numRuns: 25 },
      );
      expect(acked).toBeGreaterThan(0);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('with a perfect network every operation succeeds', async () => {
    const { outcomes, final } = await simulate(7, { loss: 0, dup: 0, maxDelay: 5 }, 3, 4, 10);
    check(outcomes, final);
    expect(outcomes.every((o) => o.result.ok)).toBe(true);
    const appended = outcomes.filter((o) => o.result.ok && o.result.applied).length;
    expect(final.ok && tokens(final.value).length).toBe(appended);
  });

  it('the checker catches a proposer that ignores accepted values', async () => {
    // an acceptor that forgets what it accepted breaks the chain: the check must notice
    let broken = 0;
    for (let seed = 0; seed < 20; seed++) {
      const rnd = mulberry32(seed);
      const sim = new Sim(rnd);
      const state = new Map<string, typeof EMPTY_ACCEPTOR>();
      const send = async (node: string, msg: PaxosRequest): Promise<PaxosReply> => {
        await sim.sleep(rnd() * 5);
        const st = state.get(node) ?? EMPTY_ACCEPTOR;
        if (msg.t === 'prepare') {
          const { next, reply } = onPrepare(st, msg.ballot);
          if (next) state.set(node, next);
          return reply.ok ? { ok: true, accepted: null } : reply; // amnesia
        }
        const { next, reply } = onAccept(st, msg.ballot, msg.value);
        if (next) state.set(node, next);
        return reply;
      };
      const ps = [new Proposer('x', { clock: sim }), new Proposer('y', { clock: sim })];
      const outcomes: Outcome[] = [];
      const run = Promise.all(
        ps.map(async (p, c) => {
          for (let i = 0; i < 4; i++) {
            const token = `${c}-${i}`;
            const invoked = sim.now();
            const result = await p.propose(
              'k',
              (cur) => ({ next: [...tokens(cur), token], applied: true }),
              {
                acceptors: ['a', 'b', 'c'],
                send,
                timeoutMs: 1000,
              },
            );
            outcomes.push({ token, kind: 'append', invoked, completed: sim.now(), result });
          }
        }),
      );
      await sim.run(run);
      await run;
      const fin = ps[0]!.propose('k', changes.read(), {
        acceptors: ['a', 'b', 'c'],
        send,
        timeoutMs: 1000,
      });
      await sim.run(fin);
      try {
        check(outcomes, await fin);
      } catch {
        broken++;
      }
    }
    expect(broken).toBeGreaterThan(0);
  });
});

describe('proposer ballots', () => {
  it('differ between two proposers with one node id (a node before and after a restart)', async () => {
    const seen: string[] = [];
    const send = async (_node: string, msg: PaxosRequest): Promise<PaxosReply> => {
      seen.push(JSON.stringify(msg.ballot));
      return msg.t === 'prepare' ? { ok: true, accepted: null } : { ok: true };
    };
    for (const p of [new Proposer('n1'), new Proposer('n1')]) {
      await p.propose('k', changes.write(1), { acceptors: ['a'], send, timeoutMs: 1000 });
    }
    expect(seen.length).toBe(4);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[2]).not.toBe(seen[0]);
  });
});

describe('acceptor', () => {
  const b = (n: number, node = 'n') => ({ n, node });
  it('promises only ballots at least as high as its promise, and accepting promises too', () => {
    let st = EMPTY_ACCEPTOR;
    const p1 = onPrepare(st, b(2));
    expect(p1.reply).toEqual({ ok: true, accepted: null });
    st = p1.next!;
    expect(onPrepare(st, b(1)).reply).toEqual({ ok: false, promised: b(2) });
    expect(onAccept(st, b(1), 'x').reply).toEqual({ ok: false, promised: b(2) });
    const a = onAccept(st, b(2), 'v');
    expect(a.reply).toEqual({ ok: true });
    st = a.next!;
    expect(onPrepare(st, b(3)).reply).toEqual({ ok: true, accepted: { ballot: b(2), value: 'v' } });
    expect(onAccept(st, b(2, 'm'), 'w').reply).toEqual({ ok: false, promised: b(2) });
    expect(compareBallots(b(2, 'm'), b(2, 'n'))).toBeLessThan(0);
  });
});
