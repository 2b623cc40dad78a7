/**
 * The checker against brute force on tiny histories from simulated stores of every isolation:
 * when some serial order explains a history, the checker finds nothing that rules out
 * serializability; when the checker finds something, no serial order exists. The same with
 * real time (strict serializability).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkElle } from './check.js';
import { serialOrderExists } from './testing/oracle.js';
import { type Isolation, simulateStore } from './testing/store-sim.js';
import { txnsOf } from './txns.js';
import { WORKLOADS } from './types.js';

const ISOLATIONS: Isolation[] = [
  'serializable',
  'snapshot',
  'no-first-committer-wins',
  'read-committed',
];

const tiny = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  isolation: fc.constantFrom(...ISOLATIONS),
  txns: fc.integer({ min: 2, max: 6 }),
  keys: fc.integer({ min: 1, max: 3 }),
  processes: fc.integer({ min: 1, max: 4 }),
});

describe.each(WORKLOADS)('%s against a brute-force oracle', (workload) => {
  for (const strict of [false, true]) {
    const model = strict ? 'strict-serializable' : 'serializable';
    it(`agrees on ${model} in both directions that a sound checker must`, () => {
      let invalid = 0;
      fc.assert(
        fc.property(tiny, (p) => {
          const events = simulateStore({ workload, ...p, failRate: 0.1, infoRate: 0.15 });
          const history = txnsOf(events, workload);
          const r = checkElle(history, { workload, consistencyModels: [model] });
          const serial = serialOrderExists(history, workload, strict);
          if (serial) expect(r.anomalyTypes).toEqual([]);
          if (r.valid === false) {
            invalid += 1;
            expect(serial).toBe(false);
          }
          // Strict serializability implies each key sequential and linearizable: assuming so
          // must not make the checker claim more than the oracle.
          if (strict && workload === 'rw-register' && serial) {
            const assumed = checkElle(history, {
              workload,
              consistencyModels: [model],
              sequentialKeys: true,
              linearizableKeys: true,
            });
            expect(assumed.anomalyTypes).toEqual([]);
          }
        }),
        { numRuns: 600 },
      );
      // The generated histories do exercise the second direction.
      expect(invalid).toBeGreaterThan(5);
    });
  }
});
