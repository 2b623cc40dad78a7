/**
 * ZooKeeper 3.8 on the docker backend (README.md, "ZooKeeper 3.8 under test"):
 * - the node image from a cold cache: the trimmed Java runtime linked (jdeps + jlink), the base
 *   image assembled and the ZooKeeper image built, none reused (target ≤ 2 min), and the size of
 *   the image;
 * - a 3-node cluster ready from cached images (every server healthy, i.e. leader or follower,
 *   and the leader hook naming the leader): median of 5 starts, target ≤ 8 s.
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
import { ensureTrimmedRuntime, IMAGE_JAVA_HOME } from '../cluster-images/zookeeper/runtime.js';
import { zookeeper, zookeeperPreflight } from '../cluster-images/zookeeper/system.js';
import type { NodeId } from '../core/cluster.js';

export const name = 'zookeeper on docker: cold image build, 3-node cluster ready';

const BUILD_TARGET_MS = 120_000;
const READY_TARGET_MS = 8000;
const NODES: NodeId[] = ['n1', 'n2', 'n3'];
const STARTS = 5;

const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

async function coldBuild(docker: Dockerode): Promise<void> {
  // A fresh runtime folder and a salt: nothing an earlier run linked or built is reused, and
  // the base's host files are found again (ldd). The cached images and runtime stay.
  const salt = `bench-${process.pid}-${Date.now()}`;
  const scratch = mkdtempSync(join(tmpdir(), 'faultline-bench-zookeeper-java-'));
  const runtime = join(scratch, 'java');
  try {
    const t0 = performance.now();
    const linked = ensureTrimmedRuntime(runtime);
    const t1 = performance.now();
    const base = await ensureBaseImage(docker, { salt, rescan: true });
    const t2 = performance.now();
    const recipe = imageRecipeOf(zookeeper.recipe(), {});
    const files = recipe.files.map((f) => (f.to === IMAGE_JAVA_HOME ? { ...f, from: runtime } : f));
    const sys = await ensureSystemImage(docker, 'zookeeper', { ...recipe, files }, base.tag, {
      salt,
    });
    const t3 = performance.now();
    const size = (await docker.getImage(sys.tag).inspect()).Size;
    const baseSize = (await docker.getImage(base.tag).inspect()).Size;
    for (const t of [sys.tag, base.tag]) {
      await idempotent(() => docker.getImage(t).remove({ force: true }));
    }
    const total = t3 - t0;
    console.log(
      `cold image build: jlink (${linked.modules.length} modules: ${linked.modules.join(',')}) ${(t1 - t0).toFixed(0)} ms + base ${(t2 - t1).toFixed(0)} ms + zookeeper ${(t3 - t2).toFixed(0)} ms = ${total.toFixed(0)} ms; target ≤ ${BUILD_TARGET_MS} ms → ${(total / BUILD_TARGET_MS).toFixed(2)} of target`,
    );
    console.log(
      `image size: ${mb(size)} (faultline base ${mb(baseSize)} + ZooKeeper layer ${mb(size - baseSize)}: trimmed runtime and jars)`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function ready(docker: Dockerode): Promise<void> {
  const backend = createDockerBackend({ docker });
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-zookeeper-'));
  const start = async (i: number | string) => {
    const runId = `bench-zk-${process.pid}-${i}`;
    const cluster = await backend.createCluster({
      runId,
      recipe: zookeeper.recipe(),
      nodes: NODES,
      settings: {},
      logsDir: join(dir, `logs-${i}`),
      startTimeoutMs: 60_000,
    });
    return { runId, cluster };
  };
  try {
    const warm = await start('warm');
    await warm.cluster.teardown();
    const times: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const t0 = performance.now();
      const { runId, cluster } = await start(i);
      const leader = await zookeeper.leader?.({
        nodes: NODES,
        clientAddress: (n) => cluster.clientAddress(n),
        signal: AbortSignal.timeout(10_000),
      });
      if (leader === undefined) throw new Error('no leader named once the cluster was ready');
      times.push(performance.now() - t0);
      await cluster.teardown();
      const left = await describeObjectsOfRun(docker, runId);
      if (left.length > 0) throw new Error(`run ${runId} left ${left.join(', ')}`);
    }
    const m = median(times);
    console.log(
      `3-node ZooKeeper cluster ready (cached images, every server leader or follower, leader named): median ${m.toFixed(0)} ms [${fmt(times)}]; target ≤ ${READY_TARGET_MS} ms → ${(m / READY_TARGET_MS).toFixed(2)} of target`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const missing = zookeeperPreflight();
  if (missing !== undefined) throw new Error(missing);
  const docker = await connectDocker();
  console.log('(shared 2-core machine: numbers are noisy)');
  await coldBuild(docker);
  await ready(docker);
}
