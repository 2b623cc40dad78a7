/**
 * The harness must never be the bottleneck (issue 5 targets):
 * - recorder ≥ 1M events/s; generator ≥ 200k ops/s;
 * - the ops/s the harness drives against a 3-node leaderless store ≥ 0.8 of what a bare load
 *   loop (same client, same op mix, same concurrency, nothing recorded) gets from the same cluster.
 * Also: node:http keep-alive vs the built-in fetch for the store's requests, and how long a
 * 5-node local cluster takes to be ready. Numbers are noisy on a shared machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalBackend } from '../harness/backends/local/local-backend.js';
import type { Cluster } from '../harness/backends/types.js';
import type { Client, Op } from '../harness/client.js';
import { limit, stagger, timeLimit } from '../harness/generator/index.js';
import type { Gen, GenContext } from '../harness/generator/types.js';
import { HttpJsonClient } from '../harness/http-json.js';
import { interpret, ProcessTable } from '../harness/interpreter.js';
import { Rng } from '../harness/random.js';
import { Recorder } from '../harness/recorder.js';
import { leaderless } from '../harness/systems/leaderless.js';
import { WORKLOADS } from '../workloads/index.js';

export const name = 'harness: recorder, generator, driven vs bare load';

const line = (what: string, value: number, unit: string, target?: number) =>
  process.stdout.write(
    `${what.padEnd(44)} ${value.toFixed(value < 10 ? 2 : 0).padStart(12)} ${unit}` +
      (target !== undefined ? `   (target ${target}: ratio ${(value / target).toFixed(2)})` : '') +
      '\n',
  );

function benchRecorder(dir: string): void {
  const n = 1_000_000;
  // The machine's pace, for scale: JSON.stringify of the same events, nothing written.
  const t = performance.now();
  let bytes = 0;
  for (let i = 0; i < n / 2; i++) {
    bytes += JSON.stringify({
      index: i,
      time: i,
      process: i % 10,
      type: 'invoke',
      f: 'cas',
      key: `r${i % 3}`,
      value: [i, i + 1],
    }).length;
  }
  line(
    'baseline: JSON.stringify of an event',
    n / 2 / ((performance.now() - t) / 1000),
    `events/s (${Math.round(bytes / (n / 2))} bytes each)`,
  );
  // Best of 3 rounds (the first also warms the JIT up).
  let best = { record: 0, total: 0 };
  for (let round = 0; round < 3; round++) {
    const r = new Recorder(join(dir, `history-${round}.jsonl`));
    const keys = ['r0', 'r1', 'r2'];
    const t0 = performance.now();
    for (let i = 0; i < n / 2; i++) {
      const p = i % 10;
      const key = keys[i % 3]!;
      r.record({ process: p, type: 'invoke', f: 'cas', key, value: [i, i + 1] });
      r.record({ process: p, type: 'ok', f: 'cas', key, value: [i, i + 1], node: 'n1' });
    }
    const recorded = performance.now();
    r.close();
    const closed = performance.now();
    const rate = { record: n / ((recorded - t0) / 1000), total: n / ((closed - t0) / 1000) };
    if (rate.record > best.record) best = rate;
  }
  line('recorder: events/s (1M events, written)', best.record, 'events/s', 1_000_000);
  line('recorder: incl. final flush + fsync', best.total, 'events/s', 1_000_000);
}

function registerGenerator(concurrency: number): Gen<Op> {
  const wl = WORKLOADS.get('register')!.build(
    {},
    {
      system: leaderless,
      nodes: ['n1', 'n2', 'n3'],
      concurrency,
      rng: new Rng(1),
    },
  );
  return wl.generator;
}

function benchGenerator(): void {
  const threads = 10;
  const n = 1_000_000;
  // As the runner wraps it: time limit and a stagger, over the register workload's generator.
  let g: Gen<Op> | undefined = limit(n, timeLimit(3600e9, stagger(1, registerGenerator(threads))));
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

/** A bare load loop: `concurrency` async loops doing the register op mix, recording nothing. */
async function bareLoad(clients: Client<Op>[], gen: Gen<Op>, seconds: number): Promise<number> {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const threads = clients.length;
  const rngs = clients.map((_, t) => new Rng(2).fork(`t${t}`));
  let g: Gen<Op> = gen;
  await Promise.all(
    clients.map(async (c, t) => {
      while (performance.now() < end) {
        const s = g.next({ time: 0, thread: t, threads, busy: 0, rng: rngs[t]! });
        if (s === undefined || s.kind !== 'op') break;
        g = s.next;
        try {
          await c.invoke(s.op, AbortSignal.timeout(5000));
        } catch {
          // a failed cas is an answer too
        }
        done++;
      }
    }),
  );
  return done / seconds;
}

async function drivenLoad(
  clients: Client<Op>[],
  gen: Gen<Op>,
  seconds: number,
  dir: string,
): Promise<number> {
  const recorder = new Recorder(join(dir, `driven-${Date.now()}.jsonl`));
  const factory = leaderless.clients.lin!;
  let done = 0;
  await interpret({
    gen: timeLimit(seconds * 1e9, gen),
    processes: new ProcessTable(clients.length),
    client: (t) => clients[t]!,
    errors: factory.errors,
    rng: (t) => new Rng(3).fork(`t${t}`),
    sink: recorder,
    opTimeoutMs: 5000,
    signal: new AbortController().signal,
    onCompletion: () => {
      done++;
    },
  });
  recorder.close();
  return done / seconds;
}

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

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-'));
  try {
    benchRecorder(dir);
    benchGenerator();

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

    const cluster = await backend.createCluster({
      runId: `bench3-${process.pid}`,
      recipe,
      nodes: ['n1', 'n2', 'n3'],
      settings: {},
      logsDir: join(dir, 'logs3'),
      startTimeoutMs: 30_000,
    });
    try {
      await benchHttpClients(cluster);
      const concurrency = 12;
      const factory = leaderless.clients.lin!;
      const clients = Array.from({ length: concurrency }, (_, t) => {
        const node = cluster.nodes[t % cluster.nodes.length]!;
        return factory.open(node, cluster.clientAddress(node));
      });
      const seconds = 5;
      const bare: number[] = [];
      const driven: number[] = [];
      // Alternate to spread the machine's noise over both.
      for (let round = 0; round < 2; round++) {
        bare.push(await bareLoad(clients, registerGenerator(concurrency), seconds));
        driven.push(await drivenLoad(clients, registerGenerator(concurrency), seconds, dir));
      }
      const b = Math.max(...bare);
      const d = Math.max(...driven);
      line(`bare load loop, 3 nodes, ${concurrency} workers (best of 2)`, b, 'ops/s');
      line(`harness-driven, same (best of 2)`, d, 'ops/s');
      line('harness / bare', d / b, 'ratio', 0.8);
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await cluster.teardown();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
