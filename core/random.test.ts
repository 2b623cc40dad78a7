import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from './random.js';

describe('Rng', () => {
  it('reproduces the same stream from the same seed and label', () => {
    fc.assert(
      fc.property(fc.integer(), fc.string(), (seed, label) => {
        const a = new Rng(seed).fork(label);
        const b = new Rng(seed).fork(label);
        for (let i = 0; i < 20; i++) expect(a.int(0, 1000)).toBe(b.int(0, 1000));
      }),
    );
  });
  it('gives forks with different labels different streams', () => {
    const r = new Rng(7);
    const a = Array.from({ length: 16 }, () => r.fork('ops').int(0, 1e9));
    const ops = r.fork('ops');
    const nem = r.fork('nemesis');
    const xs = Array.from({ length: 16 }, () => ops.int(0, 1e9));
    const ys = Array.from({ length: 16 }, () => nem.int(0, 1e9));
    expect(xs).not.toEqual(ys);
    // A fork is a fresh stream: drawing from one fork does not shift a new fork of the same label.
    expect(new Set(a).size).toBe(1);
  });
  it('keeps values within bounds and shuffles to a permutation', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: -50, max: 50 }),
        fc.nat(100),
        (seed, lo, span) => {
          const r = new Rng(seed);
          const v = r.int(lo, lo + span);
          expect(v).toBeGreaterThanOrEqual(lo);
          expect(v).toBeLessThanOrEqual(lo + span);
          const f = r.float();
          expect(f >= 0 && f < 1).toBe(true);
          const items = Array.from({ length: span }, (_, i) => i);
          expect(r.shuffle(items).sort((x, y) => x - y)).toEqual(items);
        },
      ),
    );
  });
});
