import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTest } from '../../../api/index.js';
import { createDockerBackend } from '../../../backends/docker/docker-backend.js';
import type { ClientOp } from '../../../checker/history/client-op.js';

type Op = ClientOp;

/** The cut's start and end (ns, from the nemesis events) and the paired client ops. */
async function history(dir: string) {
  const run = await readRun(dir);
  // A run without a partition (the control run) has no window.
  const cut = run.nemesis.some((e) => e.f === 'partition-start');
  const { from, until } = cut ? faultWindow(run) : { from: Number.NaN, until: Number.NaN };
  // Clients follow the sentinels: the node whose redis served an op is `servedBy`.
  const servedBy = (o: Op) => servedOn(o, 'servedBy');
  return { cut: from, healed: until, ops: run.ops, servedBy };
}

import { readResults } from '../../../checker/results.js';
import { faultWindow, readRun, servedOn } from '../../../test/run-history.js';
import { withConnection } from '../connection.js';
import { role } from '../sentinel.js';
import { REDIS_SERVER, redis } from '../system.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-e2e-redis-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** n1 (the first primary) cut off both ways for 7 s from 2 s in, its workers writing one key. */
const isolatePrimary = (name: string, settings: Record<string, string> = {}) =>
  runTest({
    name,
    system: redis,
    backend: 'docker',
    nodes: 3,
    settings,
    workload: { name: 'register', options: { keys: 1 } },
    nemesis: {
      faults: ['partition'],
      topologies: ['custom'],
      grudge: { n1: ['n2', 'n3'], n2: ['n1'], n3: ['n1'] },
      initialQuiet: 2,
      faultDuration: [7, 7],
      quiet: [10, 10],
    },
    concurrency: 6,
    rate: 100,
    timeLimit: 12,
    recovery: 1,
    opTimeout: 2,
    seed: 5,
    out,
  });

describe('end to end: Redis 7 with Sentinel, docker backend', () => {
  it('the leader hook names the primary, and another node once it is killed', async () => {
    expect(existsSync(REDIS_SERVER), 'install redis first: sh scripts/ensure-redis.sh').toBe(true);
    const nodes = ['n1', 'n2', 'n3'];
    const cluster = await createDockerBackend().createCluster({
      runId: `redis-leader-${Date.now().toString(36)}`,
      recipe: redis.recipe(),
      nodes,
      settings: {},
      logsDir: join(out, 'leader-logs'),
      startTimeoutMs: 30_000,
    });
    try {
      const view = {
        nodes,
        clientAddress: (n: string) => cluster.clientAddress(n),
        signal: AbortSignal.timeout(30_000),
      };
      // n1 starts as the primary; its own redis says so.
      const first = await redis.leader?.(view);
      expect(first).toBe('n1');
      expect(
        await withConnection(cluster.clientAddress('n1'), AbortSignal.timeout(2000), role),
      ).toBe('master');
      const t0 = Date.now();
      await cluster.kill('n1');
      let next: string | undefined;
      while (Date.now() - t0 < 20_000 && (next === undefined || next === 'n1')) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        next = await redis.leader?.(view);
      }
      // The two sentinels left agree (quorum 2) and promote a replica.
      expect(['n2', 'n3']).toContain(next);
      expect(
        await withConnection(
          cluster.clientAddress(next as string),
          AbortSignal.timeout(2000),
          role,
        ),
      ).toBe('master');
      console.log(`failover after killing the primary: ${Date.now() - t0} ms`);
    } finally {
      await cluster.teardown();
    }
  }, 60_000);

  it('isolating the primary while its clients keep writing: two primaries, stale reads, invalid', async () => {
    // n1 (the primary) is cut off from n2 and n3 both ways for 7 s; the clients (on the host)
    // reach every node. Each client asks its own node's sentinel for the primary before each op.
    // n1's sentinel, alone, cannot fail over (quorum 2) and keeps naming n1, so n1's workers
    // keep writing there and n1 acknowledges (replication is asynchronous: nothing waits for a
    // replica). n2's and n3's sentinels see n1 down after 2 s and promote a replica about 1-3 s
    // later; their workers follow them to it. From then on two primaries acknowledge writes,
    // and a read on the new one cannot see what n1 acknowledged after the cut: stale for any
    // such write that completed before the read began. Not linearizable, as Jepsen found: the
    // checker must say so, whatever the seed (the cut outlasts the failover by seconds).
    const r = await isolatePrimary('e2e-redis-isolate-primary');
    const { cut, healed, ops, servedBy } = await history(r.dir);
    const during = (o: Op) => o.call > cut && o.return < healed;
    const n1Writes = ops.filter(
      (o) => o.f === 'write' && o.status === 'ok' && servedBy(o) === 'n1' && during(o),
    );
    expect(n1Writes.length, 'writes n1 acknowledged while cut off').toBeGreaterThan(0);
    const n1Values = new Set(n1Writes.map((o) => o.invoke.value));
    const onNew = ops.filter(
      (o) => o.status === 'ok' && during(o) && servedBy(o) !== undefined && servedBy(o) !== 'n1',
    );
    expect(onNew.length, 'ops a promoted primary served while n1 still did').toBeGreaterThan(0);
    const stale = onNew.filter(
      (rd) =>
        rd.f === 'read' &&
        n1Writes.some((w) => w.return < rd.call) &&
        !n1Values.has(rd.completion?.value),
    );
    expect(
      stale.length,
      'reads on the new primary missing a write n1 had acknowledged',
    ).toBeGreaterThan(0);
    const results = await readResults(join(r.dir, 'results.json'));
    expect(results.checkers.linearizability?.valid).toBe(false);
    expect(r.verdict, r.reasons.join('; ')).toBe('invalid');
  }, 90_000);

  it('the same cut with min-replicas-to-write 1: the isolated primary refuses writes (NOREPLICAS)', async () => {
    // With min-replicas-to-write 1 and min-replicas-max-lag 1, n1 refuses writes once no replica
    // has acknowledged its stream for more than a second. What it acknowledged in that first
    // second or two after the cut is still lost when n2 takes over, so the option narrows the
    // window without closing it. The refusals are recorded as definite failures.
    const r = await isolatePrimary('e2e-redis-isolate-primary-min-replicas', {
      'min-replicas-to-write': '1',
      'min-replicas-max-lag': '1',
    });
    const { cut, healed, ops, servedBy } = await history(r.dir);
    const refused = ops.filter(
      (o) =>
        o.status === 'fail' &&
        /NOREPLICAS/.test(String((o.completion as { error?: string }).error)),
    );
    expect(refused.length, 'writes n1 refused for want of replicas').toBeGreaterThan(0);
    expect(refused.every((o) => o.call > cut)).toBe(true);
    // n1 acknowledged writes only in the first seconds of the cut, before its replicas' last
    // acknowledgements grew older than the allowed lag...
    const n1Writes = ops.filter(
      (o) =>
        o.f === 'write' &&
        o.status === 'ok' &&
        servedBy(o) === 'n1' &&
        o.call > cut &&
        o.return < healed,
    );
    expect(n1Writes.length, 'writes n1 acknowledged after the cut').toBeGreaterThan(0);
    expect(
      n1Writes.filter((o) => o.call > cut + 3e9),
      'n1 acknowledged nothing from 3 s on',
    ).toEqual([]);
    // ...and those are lost all the same: the run is invalid (3 runs out of 3).
    expect(r.verdict, r.reasons.join('; ')).toBe('invalid');
  }, 90_000);

  it('no faults, WAIT for both replicas after each write: valid', async () => {
    // The control run: with nothing failing, the history is linearizable and every write is
    // acknowledged by both replicas within WAIT's timeout (no write left unknown).
    const r = await runTest({
      name: 'e2e-redis-no-faults-wait',
      system: redis,
      backend: 'docker',
      nodes: 3,
      settings: { wait: '2', 'wait-timeout': '1000' },
      workload: { name: 'register', options: { keys: 2 } },
      nemesis: { faults: [] },
      concurrency: 4,
      rate: 100,
      timeLimit: 5,
      recovery: 1,
      opTimeout: 2,
      seed: 7,
      out,
    });
    const { ops } = await history(r.dir);
    expect(ops.filter((o) => o.status === 'info')).toEqual([]);
    expect(ops.filter((o) => o.f === 'write' && o.status === 'ok').length).toBeGreaterThan(20);
    expect(r.verdict, r.reasons.join('; ')).toBe('valid');
  }, 90_000);
});
