/**
 * etcd 3.4 on the docker backend (README "etcd 3.4 under test"):
 * - a 5-node etcd cluster ready from cached images (every member healthy, i.e. answering and
 *   knowing a leader, and the leader hook naming it): median of 5 starts, target ≤ 5 s;
 * - the ops/s the harness drives against a 5-node etcd cluster with no faults ≥ 0.9 of what a bare
 *   load loop gets from the same cluster through the same register clients (same ops, same
 *   concurrency, same duration, nothing recorded), rounds alternating, medians compared.
 * Numbers are noisy on a shared 2-core machine (the five members run on it too).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerBackend } from '../backends/docker/docker-backend.js';
import { connectDocker } from '../backends/docker/engine.js';
import { describeObjectsOfRun } from '../backends/docker/labels.js';
import { etcd } from '../cluster-images/etcd/system.js';
import type { Client, ClientFactory, Op } from '../core/client.js';
import type { Cluster, NodeId } from '../core/cluster.js';
import type { Gen, GenContext } from '../core/generator.js';
import { Rng } from '../core/random.js';
import { stagger, timeLimit } from '../generators/index.js';
import { interpret, ProcessTable } from '../harness/interpreter.js';
import { Recorder } from '../harness/recorder.js';
import { register } from '../workloads/register/index.js';

export const name = 'etcd on docker: 5-node cluster ready, harness-driven vs bare load';

const READY_TARGET_MS = 5000;
const RATIO_TARGET = 0.9;
const NODES: NodeId[] = ['n1', 'n2', 'n3', 'n4', 'n5'];
const STARTS = 5;
const CONCURRENCY = 10;
const SECONDS = 3;
const ROUNDS = 5;

const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** The register workload's generator as it is built for etcd (keys, op mix). */
function registerGenerator(concurrency: number): Gen<Op> {
  return register.build(register.options.parse({}), {
    system: etcd,
    nodes: NODES,
    concurrency,
    rng: new Rng(1),
  }).generator;
}

/** Each worker's ops, drawn from the workload's generator before any clock starts. */
function opsPerWorker(threads: number, perWorker: number): Op[][] {
  const out: Op[][] = Array.from({ length: threads }, () => []);
  let g: Gen<Op> | undefined = registerGenerator(threads);
  const rngs = Array.from({ length: threads }, (_, t) => new Rng(2).fork(`t${t}`));
  const ctx: GenContext = { time: 0, thread: 0, threads, busy: 0, rng: rngs[0] as Rng };
  for (let i = 0; g !== undefined && i < threads * perWorker; i++) {
    ctx.thread = i % threads;
    ctx.rng = rngs[ctx.thread] as Rng;
    const s: ReturnType<Gen<Op>['next']> = g.next(ctx);
    if (s === undefined) break;
    g = s.next;
    if (s.kind === 'op') (out[ctx.thread] as Op[]).push(s.op);
  }
  return out;
}

interface LoadResult {
  ops: number;
  seconds: number;
}
const rate = (r: LoadResult) => r.ops / r.seconds;

/** Workers issuing their next op as soon as the previous completes; nothing recorded. */
async function bareLoad(clients: Client<Op>[], ops: Op[][], seconds: number): Promise<LoadResult> {
  let done = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    clients.map(async (c, t) => {
      const mine = ops[t] as Op[];
      const signal = new AbortController().signal;
      for (let i = 0; performance.now() < end; i++) {
        try {
          await c.invoke(mine[i % mine.length] as Op, signal);
        } catch {
          // a failed cas is an answer too
        }
        done++;
      }
    }),
  );
  return { ops: done, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The harness: the interpreter over the register workload's generator as the runner wraps it
 * (time limit, a stagger far above what etcd does: unlimited), recording every event to a real
 * history.jsonl, with per-op timeouts and classification.
 */
async function drivenLoad(
  clients: Client<Op>[],
  seconds: number,
  dir: string,
): Promise<LoadResult> {
  const recorder = new Recorder(join(dir, `driven-${Date.now()}.jsonl`));
  const factory = etcd.clients.register as ClientFactory<Op>;
  let done = 0;
  const t0 = performance.now();
  await interpret({
    gen: timeLimit(seconds * 1e9, stagger(1, registerGenerator(clients.length))),
    processes: new ProcessTable(clients.length),
    client: (t) => clients[t] as Client<Op>,
    errors: factory.errors,
    rng: (t) => new Rng(3).fork(`t${t}`),
    sink: recorder,
    opTimeoutMs: 5000,
    signal: new AbortController().signal,
    onCompletion: (e) => {
      if (e.type === 'ok' || e.type === 'fail' || e.type === 'info') done++;
    },
  });
  recorder.close();
  return { ops: done, seconds: (performance.now() - t0) / 1000 };
}

async function throughput(cluster: Cluster, dir: string): Promise<void> {
  const factory = etcd.clients.register as ClientFactory<Op>;
  const clients = Array.from({ length: CONCURRENCY }, (_, t) => {
    const node = NODES[t % NODES.length] as NodeId;
    return factory.open(node, cluster.clientAddress(node));
  });
  try {
    const ops = opsPerWorker(CONCURRENCY, 20_000);
    // A short pair to warm both paths up (JIT, sockets, etcd's own caches), not counted.
    await bareLoad(clients, ops, 1);
    await drivenLoad(clients, 1, dir);
    const bare: LoadResult[] = [];
    const driven: LoadResult[] = [];
    // Alternating, and each pair's order swapped, to spread the machine's drift over both.
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        bare.push(await bareLoad(clients, ops, SECONDS));
        driven.push(await drivenLoad(clients, SECONDS, dir));
      } else {
        driven.push(await drivenLoad(clients, SECONDS, dir));
        bare.push(await bareLoad(clients, ops, SECONDS));
      }
    }
    const b = median(bare.map(rate));
    const d = median(driven.map(rate));
    // etcd's own rate drifts a lot between rounds (fsync on a shared disk, five members on two
    // cores): the ratio within each round's pair, run back to back, is the steadier figure.
    const paired = median(driven.map((r, i) => rate(r) / rate(bare[i] as LoadResult)));
    console.log(
      `5-node etcd, no faults, register client, ${CONCURRENCY} workers, ${SECONDS} s rounds, median of ${ROUNDS}: bare ${b.toFixed(0)} ops/s, harness-driven ${d.toFixed(0)} ops/s; harness / bare ${(d / b).toFixed(2)} (target ≥ ${RATIO_TARGET} → ${(d / b / RATIO_TARGET).toFixed(2)} of target); median of the per-round ratios ${paired.toFixed(2)}`,
    );
    console.log(
      `  rounds (ops/s bare | driven): ${bare.map((r, i) => `${rate(r).toFixed(0)} | ${rate(driven[i] as LoadResult).toFixed(0)}`).join(', ')}`,
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

export async function run(): Promise<void> {
  const docker = await connectDocker();
  const backend = createDockerBackend({ docker });
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-etcd-'));
  console.log('(shared 2-core machine: numbers are noisy)');
  const start = async (i: number | string) => {
    const runId = `bench-etcd-${process.pid}-${i}`;
    const cluster = await backend.createCluster({
      runId,
      recipe: etcd.recipe(),
      nodes: NODES,
      settings: {},
      logsDir: join(dir, `logs-${i}`),
      startTimeoutMs: 60_000,
    });
    return { runId, cluster };
  };
  const stop = async ({ runId, cluster }: { runId: string; cluster: Cluster }) => {
    await cluster.teardown();
    const left = await describeObjectsOfRun(docker, runId);
    if (left.length > 0) throw new Error(`run ${runId} left ${left.join(', ')}`);
  };
  try {
    // Warm the images once (built if absent), not timed.
    await stop(await start('warm'));
    const ready: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const t0 = performance.now();
      const started = await start(i);
      // Every member healthy (answers, knows a leader) once createCluster returns; and the leader
      // hook names the leader, as a leader-targeted fault would ask.
      const leader = await etcd.leader?.({
        nodes: NODES,
        clientAddress: (n) => started.cluster.clientAddress(n),
        signal: AbortSignal.timeout(10_000),
      });
      if (leader === undefined) throw new Error('no leader named after the cluster was ready');
      ready.push(performance.now() - t0);
      if (i === STARTS - 1) await throughput(started.cluster, dir);
      await stop(started);
    }
    const m = median(ready);
    console.log(
      `5-node etcd cluster ready (cached images, every member healthy, leader named): median ${m.toFixed(0)} ms [${fmt(ready)}]; target ≤ ${READY_TARGET_MS} ms → ${(m / READY_TARGET_MS).toFixed(2)} of target`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
