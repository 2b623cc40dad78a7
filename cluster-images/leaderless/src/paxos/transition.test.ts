import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compatible, majorityConfig } from './quorums.js';
import { configAt, TRANSITION_PHASES, transitionConfigs } from './transition.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i + 1}`);

/** A one-node change: a node joins (gained, something may be displaced) or a node leaves. */
const change = fc
  .record({
    size: fc.integer({ min: 1, max: 6 }),
    join: fc.boolean(),
    at: fc.nat(),
    displaced: fc.boolean(),
  })
  .map(({ size, join, at, displaced }) => {
    const old = ids(size);
    if (join) {
      const target = [...old, 'j'];
      if (displaced && size > 1) target.splice(at % size, 1);
      return { old, target };
    }
    if (size === 1) return { old, target: old };
    const target = old.filter((_, i) => i !== at % size);
    return { old, target: displaced ? [...target, 'g'] : target };
  });

describe('acceptor transitions of a moving key', () => {
  it('a join that displaces one owner: widen accept, widen prepare, narrow prepare, narrow accept', () => {
    const steps = transitionConfigs(['a', 'b', 'c'], ['a', 'b', 'j']);
    expect(steps).toEqual([
      {
        prepare: { acceptors: ['a', 'b', 'c'], quorum: 2 },
        accept: { acceptors: ['a', 'b', 'c', 'j'], quorum: 3 },
      },
      majorityConfig(['a', 'b', 'c', 'j']),
      {
        prepare: { acceptors: ['a', 'b', 'j'], quorum: 2 },
        accept: { acceptors: ['a', 'b', 'c', 'j'], quorum: 3 },
      },
      majorityConfig(['a', 'b', 'j']),
    ]);
    expect(configAt(['a', 'b', 'c'], ['a', 'b', 'j'], 0)).toEqual(majorityConfig(['a', 'b', 'c']));
    expect(configAt(['a', 'b', 'c'], ['a', 'b', 'j'], 9)).toEqual(majorityConfig(['a', 'b', 'j']));
  });

  it('a key whose owners do not change keeps its majorities at every phase', () => {
    for (let p = 0; p <= TRANSITION_PHASES; p++) {
      expect(configAt(['a', 'b', 'c'], ['c', 'a', 'b'], p)).toEqual(
        majorityConfig(['a', 'b', 'c']),
      );
    }
  });

  it('every one-node change fits the phases, ends at the target majorities, and neighbouring phases are compatible', () => {
    fc.assert(
      fc.property(change, ({ old, target }) => {
        const steps = transitionConfigs(old, target);
        expect(steps.length).toBeLessThanOrEqual(TRANSITION_PHASES);
        const last = configAt(old, target, TRANSITION_PHASES);
        expect(new Set(last.prepare.acceptors)).toEqual(new Set(target));
        expect(last).toEqual(majorityConfig(last.prepare.acceptors));
        for (let p = 1; p <= TRANSITION_PHASES; p++) {
          expect(compatible(configAt(old, target, p - 1), configAt(old, target, p))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('skipping a phase is not always safe (so the phase-by-phase install is needed)', () => {
    const old = ['a', 'b', 'c'];
    const target = ['a', 'b', 'j'];
    expect(compatible(configAt(old, target, 0), configAt(old, target, 4))).toBe(false);
  });
});
