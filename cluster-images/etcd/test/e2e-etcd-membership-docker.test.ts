import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTest } from '../../../api/index.js';
import { readJsonlHistory } from '../../../checker/history/jsonl.js';
import { etcdSystem } from '../system.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-e2e-etcd-membership-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('etcd membership changes (member add / remove) under partitions and kills (docker)', () => {
  it('a 3-node cluster with a pool of 4: a node joins and leaves, a member leaves and rejoins fresh; valid', async () => {
    // The membership fault adds n4 (member add, then n4 starts with --initial-cluster-state
    // existing) or removes a member (member remove, then the node is stopped and its data
    // deleted), and its stop undoes that; partitions and kills run in between. etcd changes
    // membership through its Raft log one member at a time, so reads, writes and cas stay
    // linearizable, and every change is carried out (etcd refuses one right after a start or
    // change, "unhealthy cluster", until its members have been connected for 5 s: the hook asks
    // again, a refusal changes nothing).
    const r = await runTest({
      name: 'e2e-etcd-membership',
      system: etcdSystem(),
      backend: 'docker',
      nodes: 3,
      maxNodes: 4,
      workload: { name: 'register', options: { keys: 2 } },
      nemesis: {
        faults: ['membership', 'partition', 'kill'],
        initialQuiet: 2,
        faultDuration: [5, 5],
        quiet: [3, 3],
      },
      concurrency: 6,
      rate: 100,
      timeLimit: 26,
      recovery: 2,
      opTimeout: 2,
      seed: 2,
      out,
    });
    const { events } = await readJsonlHistory(join(r.dir, 'history.jsonl'));
    const nemesis = events.filter((e) => e.process === 'nemesis') as (Record<string, unknown> & {
      f: string;
    })[];
    expect(nemesis.filter((e) => e.error !== undefined)).toEqual([]);
    const changes = nemesis.filter((e) => e.f === 'membership-start');
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) {
      const { change, node } = c.value as { change: string; node: string };
      const stop = nemesis.find((e) => e.f === 'membership-stop' && e.fault === c.fault);
      expect(stop?.value).toEqual(c.value);
      if (change === 'grow') {
        // The pool's node came up as a member of the same cluster: etcd's log says it was
        // added to the cluster and that it joined (published its name).
        expect(node).toBe('n4');
        const log = readFileSync(join(r.dir, 'nodes', 'n4', 'stderr.log'), 'utf8');
        expect(log).toMatch(/published \{Name:n4 /);
      } else {
        expect(['n1', 'n2', 'n3']).toContain(node);
      }
    }
    expect(existsSync(join(r.dir, 'nodes', 'n4'))).toBe(
      changes.some((c) => (c.value as { change: string }).change === 'grow'),
    );
    expect(r.reasons).toEqual([]);
    expect(r.verdict).toBe('valid');
  }, 120_000);
});
