import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/random.js';
import { chunkDelayMs, isNoLinkFault, MAX_RETRANSMITS, RETRANSMIT_TIMEOUT_MS } from './link.js';

/** Every possible total of retransmission timeouts: 0, 200, 200+400, ... (k losses in a row). */
const RTO_SUMS = Array.from(
  { length: MAX_RETRANSMITS + 1 },
  (_, k) => RETRANSMIT_TIMEOUT_MS * (2 ** k - 1),
);

describe('chunkDelayMs', () => {
  it('without loss: delay plus a jitter in [0, jitter)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(1000), fc.nat(1000), (seed, delayMs, jitterMs) => {
        const rng = new Rng(seed);
        for (let i = 0; i < 20; i++) {
          const d = chunkDelayMs({ delayMs, jitterMs }, rng);
          expect(d).toBeGreaterThanOrEqual(delayMs);
          expect(d).toBeLessThanOrEqual(delayMs + jitterMs);
        }
      }),
    );
  });

  it('loss adds whole retransmission timeouts, doubling, never more than the cap', () => {
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), (seed, loss) => {
        const rng = new Rng(seed);
        for (let i = 0; i < 20; i++) expect(RTO_SUMS).toContain(chunkDelayMs({ loss }, rng));
      }),
    );
  });

  it('a chunk is held with probability close to the loss rate', () => {
    const rng = new Rng(42);
    const n = 20_000;
    let held = 0;
    for (let i = 0; i < n; i++) if (chunkDelayMs({ loss: 0.3 }, rng) > 0) held++;
    // Binomial(20000, 0.3): sd ≈ 65, so ±600 is far outside chance.
    expect(Math.abs(held - 0.3 * n)).toBeLessThan(600);
  });

  it('loss 1 always costs every retransmission; loss 0 and an empty fault cost nothing', () => {
    const rng = new Rng(1);
    expect(chunkDelayMs({ loss: 1 }, rng)).toBe(RTO_SUMS.at(-1));
    expect(chunkDelayMs({ loss: 0 }, rng)).toBe(0);
    expect(chunkDelayMs({}, rng)).toBe(0);
    expect(isNoLinkFault({})).toBe(true);
    expect(isNoLinkFault({ delayMs: 0, loss: 0 })).toBe(true);
    expect(isNoLinkFault({ jitterMs: 1 })).toBe(false);
  });

  it('is reproducible from the seed', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 50 }, () =>
        chunkDelayMs({ delayMs: 3, jitterMs: 9, loss: 0.2 }, rng),
      );
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });
});
