/**
 * The leaderless store's runtime join (README "Membership changes") against the time to write the
 * data it moves: a pool of 4 real node processes on loopback, 3 started as the cluster
 * (`--fsync always` by default); K new keys are written through the eventual kv API
 * (`PUT /kv/k-i`, default N=3/W=2) by a fixed number of keep-alive clients spread over the three
 * nodes; then the 4th node is started with `--join on`, and the join is timed from
 * `POST /admin/join` until every node reports the 4 as members with no move pending. Prints both
 * times, their ratio (join ÷ write), the records the joiner streamed and how long streaming took
 * (its `/admin/membership` hand-off report), and the joiner's RSS.
 * No target: a figure for the notes. The machine is shared, so numbers are noisy.
 * BENCH_KEYS (default 100000), BENCH_CONCURRENCY (64), BENCH_FSYNC (always) and BENCH_ARGS
 * (extra node flags) tune a run.
 */
import { readFileSync } from 'node:fs';
import { call, type TestNode, waitUntil } from '../cluster-images/leaderless/test/cluster.js';
import {
  type MembershipView,
  membershipOf,
  type Pool,
  startPool,
  waitSettled,
} from '../cluster-images/leaderless/test/pool.js';
import { KeepAliveConns } from './keepalive-http.js';

export const name = 'leaderless store: join of a 4th node vs writing the data it moves';

const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const FSYNC = process.env.BENCH_FSYNC ?? 'always';
const REQUEST_TIMEOUT_MS = 30_000;
const SETTLE_TIMEOUT_MS = 600_000;

/** Keep-alive connections of the load generator (bench/keepalive-http.ts). */
const conns = new KeepAliveConns(REQUEST_TIMEOUT_MS);

function request(node: TestNode, client: number, method: string, path: string, body?: string) {
  return conns.request(node.port, client, method, path, body);
}

/** A process's resident set now and at its peak, in MiB (from /proc; NaN where unavailable). */
function rssMiB(pid: number | undefined): { rss: number; peak: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(s)?.[1]);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: Number.NaN, peak: Number.NaN };
  }
}

/** Writes keys k-0 … k-(KEYS-1) from CONCURRENCY closed-loop clients, each key once (retried). */
async function writeKeys(nodes: TestNode[]) {
  let next = 0;
  let retries = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, client) => {
      for (let i = next++; i < KEYS; i = next++) {
        const body = `{"value":${i}}`;
        let ok = false;
        for (let attempt = 0; attempt < 5 && !ok; attempt++) {
          if (attempt > 0) retries++;
          const node = nodes[(i + attempt) % nodes.length]!;
          try {
            ok = (await request(node, client, 'PUT', `/kv/k-${i}`, body)).status === 200;
          } catch {
            ok = false;
          }
        }
        if (!ok) failed++;
      }
    }),
  );
  return { ms: performance.now() - t0, retries, failed };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function run(): Promise<void> {
  process.stdout.write(
    `pool of 4, 3 members, --fsync ${FSYNC}, ${KEYS} keys by ${CONCURRENCY} clients; ` +
      'the machine is shared, so numbers are noisy\n',
  );
  let pool: Pool | undefined;
  try {
    const extra = (process.env.BENCH_ARGS ?? '').split(' ').filter(Boolean);
    pool = await startPool({ size: 4, initial: 3, args: ['--fsync', FSYNC, ...extra] });
    const [n1, n2, n3, n4] = pool.nodes as [TestNode, TestNode, TestNode, TestNode];

    // 1. the writes
    const write = await writeKeys([n1, n2, n3]);
    conns.closeAll();
    process.stdout.write(
      `write ${KEYS} keys (PUT /kv, N=3, W=2): ${s(write.ms)}  ` +
        `(${((KEYS / write.ms) * 1000).toFixed(0)} keys/s, ${write.retries} retries, ${write.failed} failed)\n`,
    );

    // 2. the join: start n4 with --join on (not timed), then admin call → settled everywhere
    const tLaunch = performance.now();
    await pool.launch('n4', { joining: true, peers: ['n1', 'n2', 'n3'] });
    const launchMs = performance.now() - tLaunch;
    const rssBefore = rssMiB(n4.proc?.pid);

    /** When n4's own report first showed each hand-off phase, ms after the admin call. */
    const seen = new Map<string, number>();
    let sampling = true;
    const tJoin = performance.now();
    const sampler = (async () => {
      while (sampling) {
        try {
          const v = await membershipOf(n4);
          if (!seen.has(v.handoff.phase)) seen.set(v.handoff.phase, performance.now() - tJoin);
        } catch {
          // a missed sample
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // a 409 "in progress" is asked again for up to 60 s, as faultline does
    await waitUntil(
      async () => (await call(n1, 'POST', '/admin/join', { node: 'n4' })).status === 200,
      60_000,
    );
    const acceptedMs = performance.now() - tJoin;
    await waitSettled([n1, n2, n3, n4], ['n1', 'n2', 'n3', 'n4'], SETTLE_TIMEOUT_MS);
    const joinMs = performance.now() - tJoin;
    sampling = false;
    await sampler;
    const rssAfter = rssMiB(n4.proc?.pid);
    const view: MembershipView = await membershipOf(n4);
    const last = view.handoff.lastCompleted as
      | { records: number; ms: number; streamMs?: number }
      | undefined;

    process.stdout.write(
      `join of n4 (POST /admin/join → every node has 4 members, no move pending): ${s(joinMs)}\n` +
        `  admin call answered after ${acceptedMs.toFixed(0)} ms; n4's hand-off phases first seen at ` +
        `${[...seen].map(([p, t]) => `${p} ${t.toFixed(0)} ms`).join(', ')}\n` +
        (last
          ? `  n4's own report: ${last.records} records streamed, hand-off ${s(last.ms)}` +
            (last.streamMs !== undefined
              ? `, of which streaming ${s(last.streamMs)} (${((last.records / Math.max(1, last.streamMs)) * 1000).toFixed(0)} records/s)`
              : '') +
            '\n'
          : '  n4 reported no completed hand-off\n') +
        `  (n4 start → /admin/status before the join, not counted: ${launchMs.toFixed(0)} ms)\n` +
        `joiner RSS: ${rssBefore.rss.toFixed(0)} MiB before the join, ${rssAfter.rss.toFixed(0)} MiB after, ` +
        `peak ${rssAfter.peak.toFixed(0)} MiB\n` +
        `ratio join ÷ write: ${(joinMs / write.ms).toFixed(3)}` +
        (last?.streamMs !== undefined
          ? `  (streaming ÷ write: ${(last.streamMs / write.ms).toFixed(3)})`
          : '') +
        '\nno target: a figure for the notes\n',
    );
  } finally {
    conns.closeAll();
    await pool?.stop();
  }
}
