import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLinearizability } from '../linearizability.js';
import { generateHistory } from './generate.js';
import { pairOperations } from './pair.js';
import { checkWellFormed } from './well-formed.js';

describe('generated histories', () => {
  it('property: are well-formed, retire ids after info, and are linearizable when uncorrupted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        async (seed, ops, clients, keys) => {
          const events = generateHistory({
            seed,
            ops,
            clients,
            keys,
            infoRate: 0.2,
            nemesisEvery: 7,
          });
          expect(checkWellFormed(events, { file: 'generated', retiredProcesses: 'error' })).toEqual(
            [],
          );
          const paired = pairOperations(events);
          expect(paired).toHaveLength(ops);
          const result = await checkLinearizability(paired, {
            model: keys > 0 ? 'kv' : 'cas-register',
            timeoutMs: 20_000,
            workers: 0,
          });
          // With no ok op (none generated, or all failed or unknown) there is nothing to judge.
          const judged = paired.some((o) => o.status === 'ok');
          expect(result.valid).toBe(judged ? true : 'unknown');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('are reproducible from their seed', () => {
    expect(generateHistory({ seed: 9, ops: 50 })).toEqual(generateHistory({ seed: 9, ops: 50 }));
    expect(generateHistory({ seed: 9, ops: 50 })).not.toEqual(
      generateHistory({ seed: 10, ops: 50 }),
    );
  });
});
