/**
 * The leaderless store under load: a 3-node loopback cluster (real processes, bundled node) with
 * the load generator in this process (a lean keep-alive HTTP/1.1 client, one connection per client
 * and node, many requests in flight). Prints quorum put/get and CASPaxos throughput with p50/p99,
 * CPU per op of the nodes and of the load generator, and node start → /admin/status time.
 * Targets: ≥ 5,000 quorum ops/s, ≥ 1,000 CAS ops/s, start ≤ 300 ms.
 * BENCH_FSYNC (default `always`), BENCH_SECONDS (default 5), BENCH_CONCURRENCY (64),
 * BENCH_ARGS (extra node flags) and BENCH_PHASES (put,get,mixed,lin,start) tune a run;
 * LEADERLESS_BUNDLE runs another build of the node and LEADERLESS_NODE_ARGS passes node flags
 * (e.g. `--cpu-prof`), see test/cluster.ts.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import {
  type Cluster,
  startCluster,
  type TestNode,
} from '../cluster-images/leaderless/test/cluster.js';
import { KeepAliveConns } from './keepalive-http.js';

export const name = 'leaderless store: quorum and CASPaxos throughput, start time';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const FSYNC = process.env.BENCH_FSYNC ?? 'always';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
/** BENCH_PHASES: a comma list of put,get,mixed,lin,start (default all of them). */
const PHASES = new Set((process.env.BENCH_PHASES ?? 'put,get,mixed,lin,start').split(','));
/**
 * CPU seconds per second the idle nodes spend on background work (gossip, pings, anti-entropy),
 * measured before the load; subtracted from the per-op figure, which would otherwise depend on
 * how many ops a busy machine let through.
 */
let idleCpuRate = 0;

const conns = new KeepAliveConns();

function request(
  node: TestNode,
  method: string,
  path: string,
  body?: string,
  client = 0,
): Promise<{ status: number; text: string }> {
  return conns.request(node.port, client, method, path, body);
}

interface Result {
  ops: number;
  errors: number;
  statuses: Map<number, number>;
  latencies: number[];
  seconds: number;
  /** CPU seconds the three nodes / the load generator used during the phase. */
  nodeCpu: number;
  loadCpu: number;
}

/** Runs `op` from CONCURRENCY closed-loop clients for SECONDS; op returns the HTTP status. */
async function load(
  op: (client: number, i: number) => Promise<number>,
  seconds = SECONDS,
  concurrency = CONCURRENCY,
): Promise<Result> {
  const res: Result = {
    ops: 0,
    errors: 0,
    statuses: new Map(),
    latencies: [],
    seconds,
    nodeCpu: 0,
    loadCpu: 0,
  };
  const cpu0 = cpuNow();
  const self0 = selfCpu();
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      for (let i = 0; performance.now() < end; i++) {
        const start = performance.now();
        try {
          const status = await op(client, i);
          res.statuses.set(status, (res.statuses.get(status) ?? 0) + 1);
          if (status === 200 || status === 409) res.ops++;
          else res.errors++;
        } catch {
          res.errors++;
        }
        res.latencies.push(performance.now() - start);
      }
    }),
  );
  res.seconds = (performance.now() - t0) / 1000;
  res.nodeCpu = cpuNow() - cpu0;
  res.loadCpu = selfCpu() - self0;
  return res;
}

/** CPU seconds used so far by a process (user + system, from /proc; 0 where unavailable). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU milliseconds used so far by all threads of a process (schedstat of each of its tasks, ns). */
function threadCpuMs(pid: number | undefined): number {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1e6;
  } catch {
    return Number.NaN;
  }
}

let cpuPids: Array<number | undefined> = [];
const cpuNow = () => cpuPids.reduce((sum: number, pid) => sum + cpuSeconds(pid), 0);
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function report(label: string, r: Result, target?: number): void {
  const sorted = r.latencies.sort((a, b) => a - b);
  const rate = r.ops / r.seconds;
  const statuses = [...r.statuses].map(([s, n]) => `${s}:${n}`).join(' ');
  process.stdout.write(
    `${label.padEnd(34)} ${rate.toFixed(0).padStart(7)} ops/s  p50 ${pct(sorted, 50).toFixed(2)} ms  p99 ${pct(sorted, 99).toFixed(2)} ms` +
      `  errors ${r.errors}  [${statuses}]` +
      `  cpu/op: nodes ${((r.nodeCpu / Math.max(1, r.ops)) * 1e6).toFixed(0)} µs` +
      ` (${((Math.max(0, r.nodeCpu - idleCpuRate * r.seconds) / Math.max(1, r.ops)) * 1e6).toFixed(0)} µs net of idle), loadgen ${((r.loadCpu / Math.max(1, r.ops)) * 1e6).toFixed(0)} µs` +
      (target ? `  ratio to target ${(rate / target).toFixed(2)} (target ${target})` : '') +
      '\n',
  );
}

export async function run(): Promise<void> {
  process.stdout.write(
    `3 nodes, --fsync ${FSYNC}, ${CONCURRENCY} clients, ${SECONDS} s per phase; the machine is shared, so numbers are noisy\n`,
  );
  let cluster: Cluster | undefined;
  try {
    const extra = (process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean);
    cluster = await startCluster({ size: 3, args: ['--fsync', FSYNC, ...extra] });
    const nodes = cluster.nodes;
    cpuPids = nodes.map((n) => n.proc?.pid);
    const pick = (client: number, i: number) => nodes[(client + i) % nodes.length]!;
    /** Client c's i-th request, to the node its turn picks, on its own connection there. */
    const reqc = (c: number, i: number, method: string, path: string, body?: string) =>
      request(pick(c, i), method, path, body, c);
    const KEYS = 10_000;
    const key = (client: number, i: number) => `k${(client * 7919 + i * 104_729) % KEYS}`;

    // warm up connections and JIT
    await load(
      (c, i) => reqc(c, i, 'PUT', `/kv/${key(c, i)}`, `{"value":${i}}`).then((r) => r.status),
      1,
    );

    const idle0 = cpuNow();
    const idleT0 = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    idleCpuRate = (cpuNow() - idle0) / ((performance.now() - idleT0) / 1000);
    process.stdout.write(
      `idle nodes' background CPU: ${(idleCpuRate * 1000).toFixed(1)} ms/s (all three)\n`,
    );

    if (PHASES.has('put')) {
      const put = await load((c, i) =>
        reqc(c, i, 'PUT', `/kv/${key(c, i)}`, `{"value":{"c":${c},"i":${i}}}`).then(
          (r) => r.status,
        ),
      );
      report('quorum PUT /kv, new keys (N=3, W=2)', put, 5000);
      const put2 = await load((c, i) =>
        reqc(c, i, 'PUT', `/kv/${key(c, i)}`, `{"value":{"c":${c},"i":${i},"again":true}}`).then(
          (r) => r.status,
        ),
      );
      report('quorum PUT /kv, existing keys', put2, 5000);
    }
    if (PHASES.has('get')) {
      const get = await load((c, i) => reqc(c, i, 'GET', `/kv/${key(c, i)}`).then((r) => r.status));
      report('quorum GET /kv (N=3, R=2)', get, 5000);
    }
    if (PHASES.has('mixed')) {
      const mixed = await load((c, i) =>
        reqc(
          c,
          i,
          i % 2 ? 'GET' : 'PUT',
          `/kv/${key(c, i)}`,
          i % 2 ? undefined : `{"value":${i}}`,
        ).then((r) => r.status),
      );
      report('quorum 50/50 PUT/GET /kv', mixed, 5000);
    }
    if (PHASES.has('lin')) {
      const linKey = (c: number, i: number) => `l${(c * 31 + i * 7) % 1000}`;
      const linPut = await load((c, i) =>
        reqc(c, i, 'PUT', `/lin/${linKey(c, i)}`, `{"value":${i}}`).then((r) => r.status),
      );
      report('CASPaxos PUT /lin (1000 keys)', linPut, 1000);
      const linCas = await load((c, i) =>
        reqc(c, i, 'POST', `/lin/${linKey(c, i)}/cas`, `{"from":${i - 1},"to":${i}}`).then(
          (r) => r.status,
        ),
      );
      report('CASPaxos cas (1000 keys, 200|409)', linCas, 1000);
      const linGet = await load((c, i) =>
        reqc(c, i, 'GET', `/lin/${linKey(c, i)}`).then((r) => r.status),
      );
      report('CASPaxos GET /lin (1000 keys)', linGet, 1000);
      const hot = await load(
        (c, i) =>
          reqc(c, i, 'POST', '/lin/hot/cas', `{"from":${i - 1},"to":${i}}`).then((r) => r.status),
        SECONDS,
        16,
      );
      report('CASPaxos cas, one hot key, 16 clients', hot);
    }
    if (!PHASES.has('start')) return;

    // start time: process spawn → /admin/status answered (probed every 10 ms)
    // also the CPU the node's threads used until then (robust to a busy machine, unlike time)
    const median = async (node: TestNode, signal: NodeJS.Signals) => {
      const times: number[] = [];
      const cpu: number[] = [];
      for (let k = 0; k < 5; k++) {
        await node.kill(signal);
        times.push(await node.start());
        cpu.push(threadCpuMs(node.proc?.pid));
      }
      return { times: times.sort((a, b) => a - b), cpu: cpu.sort((a, b) => a - b) };
    };
    const withData = await median(nodes[2]!, 'SIGTERM');
    const loaded = await cluster.stop().then(() => startCluster({ size: 1, args: ['--n', '1'] }));
    cluster = loaded;
    const empty = await median(loaded.nodes[0]!, 'SIGKILL');
    const bare = performance.now();
    const bareCpu = await new Promise<number>((resolve) => {
      // `node -e 0` paused at its end, so its CPU can be read before it exits
      const p = spawn(process.execPath, [
        '-e',
        'process.stdout.write("x"); setTimeout(() => {}, 5000)',
      ]);
      p.stdout.once('data', () => {
        const ms = threadCpuMs(p.pid);
        p.kill('SIGKILL');
        resolve(ms);
      });
    });
    const bareMs = performance.now() - bare;
    for (const [label, { times, cpu }] of [
      ['empty data dir', empty],
      [`restart with ~${KEYS} records`, withData],
    ] as const) {
      process.stdout.write(
        `node start → /admin/status (${label}): median ${times[2]!.toFixed(0)} ms, max ${times[4]!.toFixed(0)} ms` +
          `  ratio to target ${(300 / times[2]!).toFixed(2)} (target ≤ 300 ms);` +
          ` node CPU until then: median ${cpu[2]!.toFixed(0)} ms (all threads)\n`,
      );
    }
    process.stdout.write(
      `(for scale: a bare \`node -e 0\` takes ${bareMs.toFixed(0)} ms on this machine right now, ${bareCpu.toFixed(0)} ms of CPU)\n`,
    );
  } finally {
    conns.closeAll();
    await cluster?.stop();
  }
}
