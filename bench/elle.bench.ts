/**
 * The transactional (Elle-style) checker at issue #17's sizes: a list-append history from the
 * simulated serializable store (checker/elle/testing/store-sim.ts), up to 10 micro-ops per txn,
 * 5 % of txns ending info, written as JSONL; then `faultline check FILE --model list-append
 * --json`, the built CLI spawned as a whole process (wall time, peak RSS, CPU time), and, in a
 * fresh process of its own, loadTxnHistory and checkElle timed apart (parse vs check).
 *
 * Targets: 100k txns in ≤ 2 s and ≤ 2 GiB; 1M txns in ≤ 30 s and ≤ 8 GiB.
 *
 * `npm run bench -- elle` (FAULTLINE_BENCH_RUNS: runs of the 100k case, default 3;
 * FAULTLINE_BENCH_ELLE_BIG: 0 to skip the 1M case). The machine is shared: quote medians.
 */

import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { simulateStore } from '../checker/elle/testing/store-sim.js';
import { median } from './driven-vs-bare.js';
import type { TimedRun } from './timed-process.js';
import { probeModule, spawnTimed } from './timed-process.js';

export const name = 'elle: list-append check at 100k and 1M txns';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin/faultline.js');
const RUNS = Number(process.env.FAULTLINE_BENCH_RUNS ?? 3);
const BIG = process.env.FAULTLINE_BENCH_ELLE_BIG !== '0';

interface Case {
  txns: number;
  runs: number;
  wallTarget: number;
  rssTargetGiB: number;
}

const CASES: Case[] = [
  { txns: 100_000, runs: RUNS, wallTarget: 2, rssTargetGiB: 2 },
  ...(BIG ? [{ txns: 1_000_000, runs: 1, wallTarget: 30, rssTargetGiB: 8 }] : []),
];

/** Writes the history as JSONL a chunk at a time (1M txns is beyond one string). */
function writeHistory(file: string, txns: number): { events: number; mib: number; ms: number } {
  const t0 = performance.now();
  const events = simulateStore({
    workload: 'list-append',
    isolation: 'serializable',
    seed: 17,
    txns,
    processes: 10,
    keys: 10,
    // Fresh keys every 50 txns (~30 appends a key), as Jepsen's list-append retires keys.
    rotateAfter: 50,
    maxOps: 10,
    readFraction: 0.5,
    failRate: 0,
    infoRate: 0.05,
  });
  const fd = openSync(file, 'w');
  let bytes = 0;
  try {
    for (let i = 0; i < events.length; i += 10_000) {
      const chunk = `${events
        .slice(i, i + 10_000)
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`;
      bytes += Buffer.byteLength(chunk);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  return { events: events.length, mib: bytes / 2 ** 20, ms: performance.now() - t0 };
}

/** Loads and checks in one fresh process, each step timed on its own. */
function splitScript(dir: string): string {
  const file = join(dir, 'split.mjs');
  const elle = pathToFileURL(join(ROOT, 'dist/checker/elle/index.js')).href;
  writeFileSync(
    file,
    `import { checkElle, loadTxnHistory } from ${JSON.stringify(elle)};
const t0 = performance.now();
const h = await loadTxnHistory(process.argv[2], 'list-append', 'jsonl');
const t1 = performance.now();
const r = checkElle(h, { workload: 'list-append' });
const t2 = performance.now();
process.stdout.write(JSON.stringify({ loadMs: t1 - t0, checkMs: t2 - t1, valid: r.valid, txns: r.txns, anomalies: r.anomalyTypes, unknown: r.unknown }));
`,
  );
  return file;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const GiB = (kib: number): string => `${(kib / 2 ** 20).toFixed(2)} GiB`;
const rate = (n: number, ms: number): string => Math.round(n / (ms / 1000)).toLocaleString('en');

interface Row {
  label: string;
  wall: string;
  rss: string;
  txnsPerS: string;
  perCore: string;
  split: string;
  target: string;
  meets: string;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-elle-'));
  const rows: Row[] = [];
  try {
    const probeUrl = probeModule(dir);
    const split = splitScript(dir);
    for (const c of CASES) {
      const file = join(dir, `list-append-${c.txns}.jsonl`);
      const w = writeHistory(file, c.txns);
      process.stdout.write(
        `\n${c.txns.toLocaleString('en')} txns: ${w.events.toLocaleString('en')} events, ${w.mib.toFixed(0)} MiB of JSONL (generated and written in ${s(w.ms)})\n`,
      );
      const runs: TimedRun[] = [];
      for (let i = 0; i < c.runs; i++) {
        const r = spawnTimed(dir, probeUrl, [
          CLI,
          'check',
          file,
          '--model',
          'list-append',
          '--json',
        ]);
        runs.push(r);
        process.stdout.write(
          `  faultline check run ${i + 1}: ${s(r.wallMs)} wall, ${s(r.cpuMs)} CPU, peak RSS ${GiB(r.rssKiB)}, exit ${r.status}: ${r.stdout.trim() || r.stderr.trim()}\n`,
        );
      }
      const sp = spawnTimed(dir, probeUrl, [split, file]);
      let splitText = `failed (exit ${sp.status})`;
      if (sp.status === 0) {
        const o = JSON.parse(sp.stdout) as { loadMs: number; checkMs: number; valid: unknown };
        splitText = `load ${s(o.loadMs)} + checkElle ${s(o.checkMs)}`;
        process.stdout.write(
          `  in process: loadTxnHistory ${s(o.loadMs)}, checkElle ${s(o.checkMs)} (${rate(c.txns, o.checkMs)} txns/s), peak RSS ${GiB(sp.rssKiB)}; ${sp.stdout}\n`,
        );
      } else {
        process.stdout.write(
          `  in process: failed (exit ${sp.status}) ${sp.stderr.slice(0, 500)}\n`,
        );
      }
      rmSync(file, { force: true });
      const wall = median(runs.map((r) => r.wallMs));
      const cpu = median(runs.map((r) => r.cpuMs));
      const rss = Math.max(...runs.map((r) => r.rssKiB));
      const ok = wall <= c.wallTarget * 1000 && rss <= c.rssTargetGiB * 2 ** 20;
      rows.push({
        label: `${c.txns.toLocaleString('en')} txns${c.runs > 1 ? ` (median of ${c.runs})` : ' (once)'}`,
        wall: s(wall),
        rss: GiB(rss),
        txnsPerS: rate(c.txns, wall),
        perCore: `${rate(c.txns, cpu)} (${(cpu / wall).toFixed(2)} cores)`,
        split: splitText,
        target: `≤ ${c.wallTarget} s / ≤ ${c.rssTargetGiB} GiB`,
        meets: ok ? 'yes' : 'NO',
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const head: Row = {
    label: 'faultline check --model list-append',
    wall: 'wall',
    rss: 'peak RSS',
    txnsPerS: 'txns/s',
    perCore: 'txns/CPU-s (cores used)',
    split: 'in process',
    target: 'target',
    meets: 'meets',
  };
  const keys = Object.keys(head) as (keyof Row)[];
  const widths = keys.map((k) => Math.max(...[head, ...rows].map((r) => r[k].length)));
  process.stdout.write('\n');
  for (const r of [head, ...rows]) {
    process.stdout.write(`  ${keys.map((k, i) => r[k].padEnd(widths[i]!)).join('  ')}\n`);
  }
}
