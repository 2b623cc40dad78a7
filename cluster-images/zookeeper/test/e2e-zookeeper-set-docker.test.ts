import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTest } from '../../../api/index.js';
import { readJsonlHistory } from '../../../checker/history/jsonl.js';
import { readResults } from '../../../checker/results.js';
import { zookeeperPreflight, zookeeperSystem } from '../system.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-e2e-zookeeper-set-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
beforeAll(() => expect(zookeeperPreflight()).toBeUndefined());

describe('end to end: set workload on ZooKeeper 3.8, docker backend', () => {
  it('adds as child znodes through partitions and kills: valid, and every server converges', async () => {
    // An add is one create, never retried (a lost one is info); a read is sync + getChildren.
    // The final phase reads each server's own children with plain reads (replica-set): after
    // the heal all three must list the same elements.
    const r = await runTest({
      name: 'e2e-zookeeper-set',
      system: zookeeperSystem({ reads: 'sync' }),
      backend: 'docker',
      nodes: 3,
      workload: 'set',
      nemesis: { faults: ['partition', 'kill'], interval: 3 },
      concurrency: 4,
      rate: 100,
      timeLimit: 10,
      recovery: 2,
      opTimeout: 2,
      seed: 5,
      out,
    });
    const results = await readResults(join(r.dir, 'results.json'));
    expect(r.verdict, JSON.stringify(results).slice(0, 2000)).toBe('valid');
    const { events } = await readJsonlHistory(join(r.dir, 'history.jsonl'));
    const replicaNodes = new Set(
      events
        .filter((e) => e.f === 'replica-read' && e.type === 'ok')
        .map((e) => (e.value as { node?: string }).node),
    );
    expect([...replicaNodes].sort()).toEqual(['n1', 'n2', 'n3']);
    const convergence = results.checkers.convergence as { converged?: boolean } | undefined;
    expect(convergence?.converged).toBe(true);
    const oks = events.filter((e) => e.type === 'ok' && e.process !== 'nemesis');
    for (const f of ['add', 'read'])
      expect(
        oks.some((e) => e.f === f),
        f,
      ).toBe(true);
  }, 60_000);
});
