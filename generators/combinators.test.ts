import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Gen } from '../core/generator.js';
import { Rng } from '../core/random.js';
import {
  concat,
  cycle,
  delay,
  each,
  filter,
  just,
  limit,
  map,
  mix,
  once,
  onThreads,
  ops,
  phases,
  repeat,
  sleep,
  stagger,
  timeLimit,
} from './combinators.js';
import { simulate } from './simulate.js';

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const threadsArb = fc.integer({ min: 1, max: 8 });
const MS = 1_000_000;

function opsOf<T>(g: Gen<T>, threads = 1, seed = 1, maxOps = 10_000) {
  return simulate(g, { threads, seed, maxOps }).map((o) => o.op);
}

/** A counter generator: each op is the next integer from `start` (built from the context only). */
function counting(start: number): Gen<number> {
  const from = (i: number): Gen<number> => ({
    next: (ctx) => ({ kind: 'op', op: i, at: ctx.time, next: from(i + 1) }),
  });
  return from(start);
}

describe('generator combinators', () => {
  it('limit yields exactly n ops of an infinite generator', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), threadsArb, seedArb, (n, threads, seed) => {
        expect(opsOf(limit(n, counting(0)), threads, seed)).toEqual(
          Array.from({ length: n }, (_, i) => i),
        );
      }),
    );
  });

  it('concat runs generators in order', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer(), { maxLength: 6 }), { maxLength: 5 }), (parts) => {
        expect(opsOf(concat(...parts.map((p) => just(...p))))).toEqual(parts.flat());
      }),
    );
  });

  it('mix yields every op of finite components once, each component in its own order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 5 }),
        seedArb,
        threadsArb,
        (sizes, seed, threads) => {
          const comps = sizes.map((n, c) => just(...Array.from({ length: n }, (_, i) => [c, i])));
          const out = opsOf(mix(comps), threads, seed) as [number, number][];
          expect(out.length).toBe(sizes.reduce((a, b) => a + b, 0));
          sizes.forEach((n, c) => {
            const mine = out.filter(([k]) => k === c).map(([, i]) => i);
            expect(mine).toEqual(Array.from({ length: n }, (_, i) => i));
          });
        },
      ),
    );
  });

  it('mix never picks a generator of weight 0', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const out = opsOf(limit(200, mix([ops(() => 'a'), ops(() => 'b')], [1, 0])), 2, seed);
        expect(out.every((x) => x === 'a')).toBe(true);
      }),
    );
  });

  it('is deterministic: the same seed gives the same ops and times', () => {
    const build = () =>
      limit(
        500,
        stagger(
          2 * MS,
          mix<{ f: string; v: number }>([
            ops((c) => ({ f: 'read', v: c.rng.int(0, 4) })),
            ops((c) => ({ f: 'write', v: c.rng.int(0, 99) })),
          ]),
        ),
      );
    fc.assert(
      fc.property(seedArb, threadsArb, (seed, threads) => {
        expect(simulate(build(), { threads, seed })).toEqual(simulate(build(), { threads, seed }));
      }),
      { numRuns: 30 },
    );
  });

  it('generators are values: asking the same one twice gives the same step', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const g = limit(3, mix([ops((c) => c.rng.int(0, 1000)), just(-1, -2)]));
        const ask = () => g.next({ time: 5, thread: 0, threads: 1, busy: 0, rng: new Rng(seed) });
        const a = ask();
        const b = ask();
        expect(a?.kind === 'op' && b?.kind === 'op' && a.op === b.op).toBe(true);
      }),
    );
  });

  it('timeLimit never yields an op at or after its deadline', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        threadsArb,
        seedArb,
        (limitMs, threads, seed) => {
          const out = simulate(timeLimit(limitMs * MS, stagger(MS, counting(0))), {
            threads,
            seed,
          });
          expect(out.every((o) => o.at < limitMs * MS)).toBe(true);
          // and it does end: a stagger of 1 ms mean cannot fill more than a few ops per ms.
          expect(out.length).toBeLessThan(limitMs * 10 + 10);
        },
      ),
    );
  });

  it('stagger schedules ops in order with gaps below twice the mean, delay exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), seedArb, (meanMs, seed) => {
        // Many threads and tiny latency: the schedule, not the workers, sets the pace.
        const opts = { threads: 16, seed, latencyNs: 1000, maxOps: 200 };
        const st = simulate(stagger(meanMs * MS, counting(0)), opts);
        for (let i = 1; i < st.length; i++) {
          const gap = st[i]!.at - st[i - 1]!.at;
          expect(gap).toBeGreaterThanOrEqual(0);
          expect(gap).toBeLessThan(2 * meanMs * MS + 1);
        }
        const dl = simulate(delay(meanMs * MS, counting(0)), opts);
        for (let i = 1; i < dl.length; i++) expect(dl[i]!.at - dl[i - 1]!.at).toBe(meanMs * MS);
      }),
      { numRuns: 30 },
    );
  });

  it('stagger averages its mean gap over many ops', () => {
    const out = simulate(limit(5000, stagger(10 * MS, counting(0))), {
      threads: 32,
      seed: 7,
      latencyNs: 1000,
    });
    const mean = (out.at(-1)!.at - out[0]!.at) / (out.length - 1);
    expect(mean).toBeGreaterThan(9 * MS);
    expect(mean).toBeLessThan(11 * MS);
  });

  it('cycle restarts a finite generator the given number of rounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { maxLength: 5 }),
        fc.integer({ min: 0, max: 5 }),
        (xs, k) => {
          const expected = Array.from({ length: k }, () => xs).flat();
          expect(opsOf(cycle(just(...xs), k))).toEqual(expected);
        },
      ),
    );
    // An exhausted-at-once generator cycled forever ends instead of spinning.
    expect(opsOf(cycle(just<number>()))).toEqual([]);
  });

  it('repeat emits the first op of a fresh generator each time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), (k) => {
        expect(opsOf(repeat(counting(7), k))).toEqual(Array.from({ length: k }, () => 7));
        expect(opsOf(limit(k, repeat(once(counting(3)))))).toEqual(
          Array.from({ length: k }, () => 3),
        );
      }),
    );
  });

  it('each gives every worker its own generator', () => {
    fc.assert(
      fc.property(threadsArb, fc.integer({ min: 0, max: 6 }), seedArb, (threads, n, seed) => {
        const out = simulate(
          each((t) => limit(n, counting(t * 100))),
          { threads, seed },
        );
        expect(out.length).toBe(threads * n);
        for (let t = 0; t < threads; t++) {
          expect(out.filter((o) => o.thread === t).map((o) => o.op)).toEqual(
            Array.from({ length: n }, (_, i) => t * 100 + i),
          );
        }
      }),
    );
  });

  it('phases: no op of a phase starts before every op of the previous phase has ended', () => {
    fc.assert(
      fc.property(
        threadsArb,
        seedArb,
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }),
        (threads, seed, sizes) => {
          const gens = sizes.map((n, p) =>
            limit(
              n,
              map((i: number) => [p, i], counting(0)),
            ),
          );
          const out = simulate(phases(...gens), {
            threads,
            seed,
            latencyNs: (i) => ((i * 7919) % 13) * MS + 1,
          });
          expect(out.length).toBe(sizes.reduce((a, b) => a + b, 0));
          for (let p = 1; p < sizes.length; p++) {
            const prevEnd = Math.max(...out.filter((o) => o.op[0] === p - 1).map((o) => o.end));
            const start = Math.min(...out.filter((o) => o.op[0] === p).map((o) => o.at));
            expect(start).toBeGreaterThanOrEqual(prevEnd);
          }
        },
      ),
    );
  });

  it('sleep delays what follows it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), threadsArb, (ms, threads) => {
        const out = simulate(concat(just('a'), sleep(ms * MS), just('b')), { threads, seed: 1 });
        expect(out.map((o) => o.op)).toEqual(['a', 'b']);
        expect(out[1]!.at - out[0]!.at).toBeGreaterThanOrEqual(ms * MS);
      }),
    );
  });

  it('onThreads, map and filter', () => {
    fc.assert(
      fc.property(threadsArb, seedArb, (threads, seed) => {
        const out = simulate(
          limit(
            50,
            onThreads((t) => t % 2 === 0, counting(0)),
          ),
          { threads, seed },
        );
        expect(out.length).toBe(50);
        expect(out.every((o) => o.thread % 2 === 0)).toBe(true);
        const even = opsOf(
          limit(
            20,
            filter(
              (x: number) => x % 2 === 0,
              map((x: number) => x * 3, counting(0)),
            ),
          ),
        );
        expect(even).toEqual(Array.from({ length: 20 }, (_, i) => i * 6));
      }),
    );
  });
});
