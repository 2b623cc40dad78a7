/**
 * Histories from simulated stores: a serializable store's are valid; stores with a planted
 * weakness show only anomalies their isolation allows, never a stronger one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkElle } from './check.js';
import { type Isolation, simulateStore } from './testing/store-sim.js';
import { txnsOf } from './txns.js';
import { WORKLOADS } from './types.js';

const run = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  txns: fc.integer({ min: 5, max: 120 }),
  keys: fc.integer({ min: 1, max: 5 }),
  processes: fc.integer({ min: 1, max: 6 }),
  maxOps: fc.integer({ min: 1, max: 5 }),
});

/** What each store may show (and the realtime/process forms of its cycles). */
const ALLOWED: Record<Isolation, string[]> = {
  serializable: [],
  snapshot: ['G2-item'],
  'no-first-committer-wins': ['G-single', 'G-nonadjacent', 'G2-item', 'lost-update', 'internal'],
  'read-committed': ['G-single', 'G-nonadjacent', 'G2-item', 'lost-update', 'internal'],
};
const base = (a: string) => a.replace(/-(process|realtime)$/, '');

describe.each(WORKLOADS)('%s from simulated stores', (workload) => {
  for (const isolation of Object.keys(ALLOWED) as Isolation[]) {
    it(`${isolation}: shows only what the isolation allows`, () => {
      const seen = new Set<string>();
      fc.assert(
        fc.property(run, (p) => {
          const history = txnsOf(simulateStore({ workload, isolation, ...p }), workload);
          const r = checkElle(history, { workload });
          expect(r.valid).not.toBe('unknown');
          for (const a of r.anomalyTypes) {
            seen.add(base(a));
            expect(ALLOWED[isolation]).toContain(base(a));
          }
        }),
        { numRuns: 150 },
      );
      // Each planted weakness shows up.
      if (isolation === 'snapshot') expect(seen).toContain('G2-item');
      if (isolation !== 'serializable' && isolation !== 'snapshot') {
        expect(seen).toContain('lost-update');
      }
    });
  }

  it('a snapshot-isolation store is valid under snapshot isolation', () => {
    fc.assert(
      fc.property(run, (p) => {
        const history = txnsOf(simulateStore({ workload, isolation: 'snapshot', ...p }), workload);
        expect(
          checkElle(history, { workload, consistencyModels: ['snapshot-isolation'] }).valid,
        ).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
