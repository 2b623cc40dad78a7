/**
 * The harness must never be the bottleneck (issue 5 targets):
 * - generator ≥ 200k ops/s (the recorder's ≥ 1M events/s: bench/recorder.bench.ts);
 * - the ops/s the harness drives against a 3-node leaderless store ≥ 0.8 of what a bare load
 *   loop (same client, same op mix, same concurrency, nothing recorded) gets from the same cluster.
 * Also: node:http keep-alive vs the built-in fetch for the store's requests, and how long a
 * 5-node local cluster takes to be ready. Numbers are noisy on a shared machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalBackend } from '../backends/local/local-backend.js';
import { leaderless } from '../cluster-images/leaderless/system.js';
import type { Client, OkResult, Op } from '../core/client.js';
import type { Cluster } from '../core/cluster.js';
import type { Gen, GenContext } from '../core/generator.js';
import { HttpJsonClient } from '../core/http-json.js';
import { Rng } from '../core/random.js';
import { limit, stagger, timeLimit } from '../generators/index.js';
import { clientContext } from '../harness/run/cluster-up.js';
import type { LoadResult, LoadTarget } from './driven-vs-bare.js';
import {
  bareLoad,
  cpuPerOp,
  drivenLoad,
  median,
  opsPerWorker,
  rate,
  registerGenerator,
} from './driven-vs-bare.js';

export const name = 'harness: generator, cluster start, driven vs bare load';

const TARGET: LoadTarget = { system: leaderless, nodes: ['n1', 'n2', 'n3'] };

const line = (what: string, value: number, unit: string, target?: number) =>
  process.stdout.write(
    `${what.padEnd(44)} ${value.toFixed(value < 10 ? 2 : 0).padStart(12)} ${unit}` +
      (target !== undefined ? `   (target ${target}: ratio ${(value / target).toFixed(2)})` : '') +
      '\n',
  );

function benchGenerator(): void {
  const threads = 10;
  const n = 1_000_000;
  // As the runner wraps it: time limit and a stagger, over the register workload's generator.
  let g: Gen<Op> | undefined = limit(
    n,
    timeLimit(3600e9, stagger(1, registerGenerator(TARGET, threads))),
  );
  const rngs = Array.from({ length: threads }, (_, t) => new Rng(1).fork(`t${t}`));
  const ctx: GenContext = { time: 0, thread: 0, threads, busy: 0, rng: rngs[0]! };
  let ops = 0;
  const t0 = performance.now();
  while (g !== undefined) {
    ctx.thread = ops % threads;
    ctx.rng = rngs[ctx.thread]!;
    ctx.time += 1000;
    const s: ReturnType<Gen<Op>['next']> = g.next(ctx);
    if (s === undefined) break;
    if (s.kind === 'op') ops++;
    g = s.next;
  }
  const s = (performance.now() - t0) / 1000;
  line('generator: ops/s (register, staggered, limited)', ops / s, 'ops/s', 200_000);
}

/** What one side of the comparison did: ops completed, wall seconds, this process's CPU. */
async function benchHttpClients(cluster: Cluster): Promise<void> {
  const addr = cluster.clientAddress('n1');
  const n = 2000;
  const http = new HttpJsonClient(addr);
  // Right after start the nodes may not see each other yet (412: nothing sent): retry.
  for (let i = 0; ; i++) {
    try {
      await http.call('PUT', '/lin/bench', { value: 1 });
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  let t0 = performance.now();
  for (let i = 0; i < n; i++) await http.call('GET', '/lin/bench', undefined);
  const httpRate = n / ((performance.now() - t0) / 1000);
  http.close();
  const url = `http://${addr.host}:${addr.port}/lin/bench`;
  t0 = performance.now();
  for (let i = 0; i < n; i++) await (await fetch(url)).json();
  const fetchRate = n / ((performance.now() - t0) / 1000);
  line('client: node:http keep-alive, sequential reads', httpRate, 'ops/s');
  line('client: fetch (undici), sequential reads', fetchRate, 'ops/s');
}

/**
 * The harness's own CPU per op, free of the store and the network: both sides against clients
 * that answer at once (on the next turn of the event loop, as I/O would), same workers and ops.
 * The difference is what the interpreter, generator stepping, recorder and timeouts cost per op.
 */
async function benchOverhead(dir: string): Promise<void> {
  const concurrency = 12;
  const instant: Client<Op> = {
    invoke: (op) =>
      new Promise<OkResult>((resolve) =>
        setImmediate(() => resolve(op.f === 'read' ? { value: 1 } : {})),
      ),
    close: async () => {},
  };
  const clients = Array.from({ length: concurrency }, () => instant);
  const ops = opsPerWorker(TARGET, concurrency, 20_000);
  const bare: LoadResult[] = [];
  const driven: LoadResult[] = [];
  for (let round = 0; round < 4; round++) {
    bare.push(await bareLoad(clients, ops, 0.5));
    driven.push(await drivenLoad(TARGET, clients, 0.5, dir));
  }
  // The first round warms the JIT up.
  const b = Math.min(...bare.slice(1).map(cpuPerOp));
  const d = Math.min(...driven.slice(1).map(cpuPerOp));
  line('instant client: bare loop CPU per op', b, 'µs');
  line('instant client: harness CPU per op', d, 'µs');
  line('harness overhead per op (difference)', d - b, 'µs');
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-'));
  try {
    benchGenerator();
    await benchOverhead(dir);

    const backend = createLocalBackend();
    const recipe = leaderless.recipe();
    const t0 = performance.now();
    const five = await backend.createCluster({
      runId: `bench5-${process.pid}`,
      recipe,
      nodes: ['n1', 'n2', 'n3', 'n4', 'n5'],
      settings: {},
      logsDir: join(dir, 'logs5'),
      startTimeoutMs: 30_000,
    });
    line('local backend: 5-node cluster ready', performance.now() - t0, 'ms', 1000);
    await five.teardown();

    // Without fsync: a store waiting on a shared disk would hide the harness's own cost (the
    // comparison is stricter the faster the store is).
    const cluster = await backend.createCluster({
      runId: `bench3-${process.pid}`,
      recipe,
      nodes: ['n1', 'n2', 'n3'],
      settings: { fsync: 'never' },
      logsDir: join(dir, 'logs3'),
      startTimeoutMs: 30_000,
    });
    try {
      await benchHttpClients(cluster);
      const concurrency = 12;
      const factory = leaderless.clients.register!;
      const clients = Array.from({ length: concurrency }, (_, t) => {
        const node = cluster.nodes[t % cluster.nodes.length]!;
        return factory.open(node, cluster.clientAddress(node), clientContext(cluster, {}));
      });
      const seconds = 4;
      const ops = opsPerWorker(TARGET, concurrency, 20_000);
      // A short pair to warm both paths up (JIT, sockets), not counted.
      await bareLoad(clients, ops, 1);
      await drivenLoad(TARGET, clients, 1, dir);
      const bare: LoadResult[] = [];
      const driven: LoadResult[] = [];
      // Alternate to spread the machine's noise over both.
      for (let round = 0; round < 4; round++) {
        bare.push(await bareLoad(clients, ops, seconds));
        driven.push(await drivenLoad(TARGET, clients, seconds, dir));
      }
      const b = median(bare.map(rate));
      const d = median(driven.map(rate));
      const label = `3 nodes no fsync, ${concurrency} workers, ${seconds} s, median of 4`;
      line(`bare load loop: ops/s (${label})`, b, 'ops/s');
      line(`harness-driven: ops/s (same)`, d, 'ops/s');
      line('harness / bare', d / b, 'ratio', 0.8);
      line('bare: this process CPU per op (+ proxy mesh)', median(bare.map(cpuPerOp)), 'µs');
      line('harness: this process CPU per op (+ mesh)', median(driven.map(cpuPerOp)), 'µs');
      process.stdout.write(
        `  rounds (ops/s bare | driven): ${bare.map((r, i) => `${rate(r).toFixed(0)} | ${rate(driven[i] as LoadResult).toFixed(0)}`).join(', ')}\n`,
      );
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await cluster.teardown();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
