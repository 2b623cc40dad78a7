import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leaderless } from '../../cluster-images/leaderless/system.js';
import { Rng } from '../../core/random.js';
import { limit, simulate } from '../../generators/index.js';
import { WORKLOADS } from '../index.js';

const build = (options: unknown, concurrency: number, nodes = ['n1', 'n2', 'n3']) =>
  WORKLOADS.get('register')!.build(options, {
    system: leaderless,
    nodes,
    concurrency,
    rng: new Rng(1),
  });

describe('register workload', () => {
  it('writes unique values: every write and cas target is distinct, on the configured keys', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        (threads, keys, seed) => {
          const w = build({ keys }, threads);
          const ops = simulate(limit(600, w.generator), { threads, seed }).map((o) => o.op);
          const written = ops.flatMap((o) =>
            o.f === 'write' ? [o.value] : o.f === 'cas' ? [(o.value as [unknown, unknown])[1]] : [],
          );
          expect(new Set(written).size).toBe(written.length);
          const allowed = new Set(Array.from({ length: keys }, (_, i) => `r${i}`));
          expect(ops.every((o) => allowed.has(String(o.key)))).toBe(true);
          expect(ops.every((o) => ['read', 'write', 'cas'].includes(o.f))).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('final reads: one worker per node reads every key once', () => {
    const w = build({ keys: 4 }, 5, ['n1', 'n2', 'n3']);
    const reads = simulate(w.finalGenerator!, { threads: 5, seed: 1 });
    expect(reads.length).toBe(3 * 4);
    expect(new Set(reads.map((r) => r.thread))).toEqual(new Set([0, 1, 2]));
    expect(reads.every((r) => r.op.f === 'read')).toBe(true);
  });

  it('is checked with the kv model, initial null; rejects bad options by name', () => {
    expect(build({}, 2).check).toEqual({ model: 'kv', initial: null });
    expect(() => build({ keys: 0 }, 2)).toThrow(/field workload.options.keys: .*got 0/);
    expect(() => build({ keyz: 3 }, 2)).toThrow(/keyz/);
  });
});
