/**
 * The docker backend: a cold base + leaderless image build (target ≤ 60 s), a 5-node leaderless
 * cluster of cached images ready (target ≤ 3 s), and how late a partition is in force on all
 * five nodes against its scheduled time, as the nemesis event records it (target ≤ 100 ms).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { createDockerBackend, imageRecipeOf } from '../backends/docker/docker-backend.js';
import { connectDocker, idempotent } from '../backends/docker/engine.js';
import { ensureBaseImage, ensureSystemImage } from '../backends/docker/images.js';
import { describeObjectsOfRun } from '../backends/docker/labels.js';
import { leaderlessRecipe } from '../cluster-images/leaderless/system.js';
import type { Cluster, NodeId } from '../core/cluster.js';
import { partitionRun } from './partition-run.js';

export const name = 'docker backend: cold image build, cluster ready time, partition lateness';

const BUILD_TARGET_MS = 60_000;
const READY_TARGET_MS = 3000;
const LATENESS_TARGET_MS = 100;
const NODES: NodeId[] = ['n1', 'n2', 'n3', 'n4', 'n5'];

const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function coldBuild(docker: Dockerode): Promise<void> {
  // A salt gives images no earlier run built: the import and build really happen, and the
  // host files are found again (ldd), as on a fresh machine. The cached images stay.
  const salt = `bench-${process.pid}-${Date.now()}`;
  const t0 = performance.now();
  const base = await ensureBaseImage(docker, { salt, rescan: true });
  const t1 = performance.now();
  const sys = await ensureSystemImage(
    docker,
    'leaderless',
    imageRecipeOf(leaderlessRecipe(), {}),
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
    `cold image build: base ${(t1 - t0).toFixed(0)} ms + leaderless ${(t2 - t1).toFixed(0)} ms = ${total.toFixed(0)} ms; target ≤ ${BUILD_TARGET_MS} ms → ${(total / BUILD_TARGET_MS).toFixed(2)} of target`,
  );
}

async function readyAndPartitions(docker: Dockerode): Promise<void> {
  const backend = createDockerBackend({ docker });
  const logsDir = mkdtempSync(join(tmpdir(), 'faultline-bench-docker-'));
  const ready: number[] = [];
  const down: number[] = [];
  const lateness: number[] = [];
  const applyMs: number[] = [];
  try {
    // Warm the images once (not timed), then time cluster starts.
    const base = await ensureBaseImage(docker);
    await ensureSystemImage(docker, 'leaderless', imageRecipeOf(leaderlessRecipe(), {}), base.tag);
    for (let i = 0; i < 4; i++) {
      const runId = `bench-docker-${process.pid}-${i}`;
      const t0 = performance.now();
      const cluster: Cluster = await backend.createCluster({
        runId,
        recipe: leaderlessRecipe(),
        nodes: NODES,
        settings: {},
        logsDir,
        startTimeoutMs: 30_000,
      });
      ready.push(performance.now() - t0);
      if (i === 0) {
        const events = await partitionRun(cluster, NODES);
        for (const e of events) {
          lateness.push((e.recordedAt - e.scheduledTime) / 1e6);
          applyMs.push((e.recordedAt - e.startedTime) / 1e6);
        }
      }
      const t1 = performance.now();
      await cluster.teardown();
      down.push(performance.now() - t1);
      const left = await describeObjectsOfRun(docker, runId);
      if (left.length > 0) throw new Error(`run ${runId} left ${left.join(', ')}`);
    }
  } finally {
    rmSync(logsDir, { recursive: true, force: true });
  }
  const m = median(ready);
  console.log(
    `5-node leaderless cluster ready (cached images, all healthy): median ${m.toFixed(0)} ms [${fmt(ready)}]; target ≤ ${READY_TARGET_MS} ms → ${(m / READY_TARGET_MS).toFixed(2)} of target; teardown [${fmt(down)}] ms`,
  );
  const worst = Math.max(...lateness);
  console.log(
    `partition in force on all 5 nodes, ms after its scheduled time (event time − scheduledTime, ${lateness.length} events): median ${median(lateness).toFixed(1)}, max ${worst.toFixed(1)}; target ≤ ${LATENESS_TARGET_MS} ms → ${(worst / LATENESS_TARGET_MS).toFixed(2)} of target (backend call alone: median ${median(applyMs).toFixed(1)}, max ${Math.max(...applyMs).toFixed(1)})`,
  );
}

export async function run(): Promise<void> {
  const docker = await connectDocker();
  console.log('(shared 2-core machine: numbers are noisy)');
  await coldBuild(docker);
  await readyAndPartitions(docker);
}
