// faultline from a project's own test suite: `npx vitest run` in a project that has faultline
// (and vitest) installed. Each test runs a short chaos run on local processes and asserts the
// verdict faultline reached.
import { runTest } from 'faultline';
import { describe, expect, it } from 'vitest';
import tinyKv from './kv-system.ts';
import oneKey from './one-key.workload.ts';

const short = {
  workload: 'register',
  concurrency: 6,
  rate: 100,
  timeLimit: 5,
  recovery: 1,
  opTimeout: 1,
  out: 'results-vitest',
} as const;

describe('tiny-kv under faultline', () => {
  it('one node that fsyncs before it answers stays linearizable through kills', async () => {
    const outcome = await runTest({
      ...short,
      name: 'vitest-single',
      system: tinyKv,
      nodes: 1,
      nemesis: { faults: ['kill'], interval: 1.5 },
      seed: 3,
    });
    expect(outcome.reasons).toEqual([]);
    expect(outcome.verdict).toBe('valid');
  }, 60_000);

  it('asynchronous replication with reads on every node is caught serving stale reads', async () => {
    const outcome = await runTest({
      ...short,
      name: 'vitest-async',
      system: tinyKv,
      settings: { replication: 'async' },
      nodes: 3,
      nemesis: { faults: ['partition'], interval: 1.5 },
      seed: 4,
    });
    expect(outcome.verdict).toBe('invalid');
  }, 60_000);

  it('a workload of the project’s own runs through the same API', async () => {
    const outcome = await runTest({
      ...short,
      name: 'vitest-own-workload',
      system: tinyKv,
      workload: { name: oneKey, options: { readShare: 0.7 } },
      nodes: 1,
      nemesis: { faults: ['kill'], interval: 1.5 },
      seed: 5,
    });
    expect(outcome.results.checkers.linearizability?.valid).toBe(true);
    expect(outcome.verdict).toBe('valid');
  }, 60_000);
});
