/**
 * Redis 7 with Sentinel on the docker backend (README.md, "Redis 7 with Sentinel under test"):
 * - the node image built from a cold cache (base image included, host files found again with
 *   ldd, as on a fresh machine): target ≤ 2 min;
 * - a 3-node cluster ready from cached images (every node healthy: replication online, every
 *   sentinel seeing every replica and sentinel up; and the leader hook naming the primary):
 *   median of 5 starts, target ≤ 3 s.
 * Numbers are noisy on a shared 2-core machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { createDockerBackend, imageRecipeOf } from '../backends/docker/docker-backend.js';
import { connectDocker, idempotent } from '../backends/docker/engine.js';
import { ensureBaseImage, ensureSystemImage } from '../backends/docker/images.js';
import { describeObjectsOfRun } from '../backends/docker/labels.js';
import { redis } from '../cluster-images/redis/system.js';
import type { NodeId } from '../core/cluster.js';
import { median } from './driven-vs-bare.js';

export const name = 'redis on docker: cold image build, 3-node cluster ready';

const BUILD_TARGET_MS = 120_000;
const READY_TARGET_MS = 3000;
const NODES: NodeId[] = ['n1', 'n2', 'n3'];
const STARTS = 5;

const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');

async function coldBuild(docker: Dockerode): Promise<void> {
  // A salt gives images no earlier run built; the cached images stay for the starts below.
  const salt = `bench-redis-${process.pid}-${Date.now()}`;
  const t0 = performance.now();
  const base = await ensureBaseImage(docker, { salt, rescan: true });
  const t1 = performance.now();
  const sys = await ensureSystemImage(
    docker,
    'redis',
    imageRecipeOf(redis.recipe(), {}),
    base.tag,
    {
      salt,
    },
  );
  const t2 = performance.now();
  for (const t of [sys.tag, base.tag]) {
    await idempotent(() => docker.getImage(t).remove({ force: true }));
  }
  const total = t2 - t0;
  console.log(
    `cold image build: base ${(t1 - t0).toFixed(0)} ms + redis ${(t2 - t1).toFixed(0)} ms = ${total.toFixed(0)} ms; target ≤ ${BUILD_TARGET_MS} ms → ${(total / BUILD_TARGET_MS).toFixed(2)} of target`,
  );
}

export async function run(): Promise<void> {
  const docker = await connectDocker();
  const backend = createDockerBackend({ docker });
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-redis-'));
  console.log('(shared 2-core machine: numbers are noisy)');
  try {
    await coldBuild(docker);
    const start = async (i: number | string) => {
      const runId = `bench-redis-${process.pid}-${i}`;
      const cluster = await backend.createCluster({
        runId,
        recipe: redis.recipe(),
        nodes: NODES,
        settings: {},
        logsDir: join(dir, `logs-${i}`),
        startTimeoutMs: 60_000,
      });
      return { runId, cluster };
    };
    // Warm the cached images once (built if absent), not timed.
    const warm = await start('warm');
    await warm.cluster.teardown();
    const ready: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const t0 = performance.now();
      const { runId, cluster } = await start(i);
      const leader = await redis.leader?.({
        nodes: NODES,
        clientAddress: (n) => cluster.clientAddress(n),
        signal: AbortSignal.timeout(10_000),
      });
      ready.push(performance.now() - t0);
      await cluster.teardown();
      if (leader !== 'n1') throw new Error(`the leader hook named ${leader}, not n1`);
      const left = await describeObjectsOfRun(docker, runId);
      if (left.length > 0) throw new Error(`run ${runId} left ${left.join(', ')}`);
    }
    const m = median(ready);
    console.log(
      `3-node redis + sentinel cluster ready (cached images, every node healthy, primary named): median ${m.toFixed(0)} ms [${fmt(ready)}]; target ≤ ${READY_TARGET_MS} ms → ${(m / READY_TARGET_MS).toFixed(2)} of target`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
