import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRunDeps } from '../../../api/registries.js';
import { connectDocker } from '../../../backends/docker/engine.js';
import { describeObjectsOfRun } from '../../../backends/docker/labels.js';
import { readJsonlHistory } from '../../../checker/history/jsonl.js';
import { readResults } from '../../../checker/results.js';
import { runTest } from '../../../harness/runner.js';
import { parseSpec, resolveSpec } from '../../../harness/spec.js';
import { ETCD_BINARY } from '../system.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-e2e-etcd-set-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('end to end: set workload on etcd 3.4, docker backend', () => {
  it('adds, reads and final replica reads through partitions and kills', async () => {
    expect(existsSync(ETCD_BINARY), 'install etcd first: sh scripts/ensure-etcd.sh').toBe(true);
    const docker = await connectDocker();
    const spec = resolveSpec(
      parseSpec({
        name: 'e2e-etcd-set-docker',
        system: 'etcd',
        backend: 'docker',
        nodes: 3,
        workload: { name: 'set', options: { activeKeys: 2 } },
        nemesis: { faults: ['partition', 'kill'], interval: 1.5 },
        concurrency: 4,
        rate: 100,
        timeLimit: 10,
        recovery: 2,
        opTimeout: 2,
        seed: 29,
        out,
      }),
      () => 0,
    );
    const r = await runTest(spec, defaultRunDeps());
    const results = await readResults(join(r.dir, 'results.json'));
    const dump = JSON.stringify(results).slice(0, 3000);

    // Valid, and why: each add is a put committed through Raft (and fsynced) before etcd
    // answers, so an acknowledged element is never lost; a read is a linearizable range (read
    // index through the leader), so it never misses an element acknowledged before it began;
    // adds etcd could not vouch for are info (maybe present, never "unexpected"); and after the
    // heal every member applies the same log, so the final serializable reads of each member's
    // own state agree. The one verdict this run may have is valid, with no reason given.
    expect(r.verdict, dump).toBe('valid');
    expect(r.reasons).toEqual([]);
    const setFull = results.checkers['set-full'] as unknown as {
      valid: boolean;
      source: string;
      keys: { acknowledged: number; lost: unknown[]; staleReadCount: number }[];
    };
    expect(setFull.valid, dump).toBe(true);
    // Judged against the final replica reads of all three members.
    expect(setFull.source).toBe('replica-read');
    expect(setFull.keys.reduce((n, k) => n + k.acknowledged, 0)).toBeGreaterThan(50);
    for (const k of setFull.keys) {
      expect(k.lost).toEqual([]);
      expect(k.staleReadCount).toBe(0);
    }
    const convergence = results.checkers.convergence as unknown as {
      valid: boolean;
      converged: boolean;
      replicas: string[];
    };
    expect(convergence).toMatchObject({ valid: true, converged: true });
    expect(convergence.replicas.sort()).toEqual(['n1', 'n2', 'n3']);

    const test = JSON.parse(readFileSync(join(r.dir, 'test.json'), 'utf8'));
    expect(test).toMatchObject({ seed: 29, status: 'complete' });
    const { events, warnings } = await readJsonlHistory(join(r.dir, 'history.jsonl'));
    expect(warnings).toEqual([]);
    const nemesis = new Set(events.filter((e) => e.process === 'nemesis').map((e) => e.f));
    for (const f of ['partition-start', 'partition-stop', 'kill', 'start']) {
      expect(nemesis.has(f), f).toBe(true);
    }
    const oks = events.filter((e) => e.type === 'ok' && e.process !== 'nemesis');
    expect(oks.some((e) => e.f === 'add')).toBe(true);
    // Reads saw elements (a range over the set's prefix, not an empty answer).
    expect(oks.some((e) => e.f === 'read' && Array.isArray(e.value) && e.value.length > 0)).toBe(
      true,
    );
    // Every member answered a replica read with its own state.
    const replicaNodes = new Set(
      oks.filter((e) => e.f === 'replica-read').map((e) => (e.value as { node: string }).node),
    );
    expect([...replicaNodes].sort()).toEqual(['n1', 'n2', 'n3']);
    expect(await describeObjectsOfRun(docker, test.runId)).toEqual([]);
  }, 120_000);
});
