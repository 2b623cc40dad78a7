/**
 * `faultline check` as users run it: the built CLI spawned as a whole process on the groups of
 * reference histories (../shared/testdata/porcupine), wall time as the median of several runs
 * and the peak RSS of the process; then reading a generated 1M-event history as JSONL and as
 * Jepsen EDN, each in a fresh process (events/s and peak RSS).
 *
 * `npm run bench -- checker-speed` (FAULTLINE_BENCH_RUNS: runs per figure, default 5;
 * FAULTLINE_BENCH_EVENTS: events of the generated history, default 1,000,000).
 * The machine is shared: quote medians, and compare on a quiet machine.
 */

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { eventToEdn } from '../checker/history/export.js';
import { generateHistory } from '../checker/history/generate.js';
import { stringifyJson } from '../checker/history/json.js';
import { median } from './driven-vs-bare.js';
import type { TimedRun } from './timed-process.js';
import { probeModule, spawnTimed } from './timed-process.js';

export const name = 'checker speed: whole-process check and 1M-event reading';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PORCUPINE = fileURLToPath(new URL('../../shared/testdata/porcupine/', import.meta.url));
const CLI = join(ROOT, 'bin/faultline.js');
const RUNS = Number(process.env.FAULTLINE_BENCH_RUNS ?? 5);
const EVENTS = Number(process.env.FAULTLINE_BENCH_EVENTS ?? 1_000_000);

interface Group {
  label: string;
  args: string[];
  target: string;
}

function files(folder: string, pattern: RegExp): string[] {
  return readdirSync(join(PORCUPINE, folder))
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => join(PORCUPINE, folder, f));
}

const GROUPS: Group[] = [
  {
    label: 'etcd 000-069, --model cas-register',
    args: ['--model', 'cas-register', ...files('etcd', /^etcd_0[0-6]\d\.log$/)],
    target: '≤ 0.5 s',
  },
  {
    label: 'kv, six files by key, --model append-kv',
    args: ['--model', 'append-kv', ...files('kv', /\.txt$/)],
    target: '≤ 0.5 s',
  },
  {
    label: 'kv c01 + c10 whole, --no-partition',
    args: ['--model', 'append-kv', '--no-partition', ...files('kv', /^c(01|10)-/)],
    target: 'no slower than before (2.66 s)',
  },
];

const MiB = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

function groups(dir: string, probe: string): void {
  process.stdout.write(`\nfaultline check, whole process, median of ${RUNS} (after one warm-up)\n`);
  for (const g of GROUPS) {
    const runs: TimedRun[] = [];
    spawnTimed(dir, probe, [CLI, 'check', ...g.args]);
    for (let i = 0; i < RUNS; i++) runs.push(spawnTimed(dir, probe, [CLI, 'check', ...g.args]));
    const wall = median(runs.map((r) => r.wallMs));
    const rss = Math.max(...runs.map((r) => r.rssKiB));
    const codes = [...new Set(runs.map((r) => r.status))].join(',');
    process.stdout.write(
      `  ${g.label.padEnd(42)} ${(wall / 1000).toFixed(3)} s (min ${(Math.min(...runs.map((r) => r.wallMs)) / 1000).toFixed(3)}, max ${(Math.max(...runs.map((r) => r.wallMs)) / 1000).toFixed(3)})  peak RSS ${MiB(rss)}  exit ${codes}  target ${g.target}\n`,
    );
  }
}

/** A Jepsen-style EDN op map: `:index` and `:time` as Jepsen writes them, commas between fields. */
function jepsenEdn(e: Parameters<typeof eventToEdn>[0]): string {
  return eventToEdn(e).replace(/^\{/, `{:index ${e.index}, `).replaceAll(' :', ', :');
}

function reading(dir: string, probe: string): void {
  const t0 = performance.now();
  const events = generateHistory({
    seed: 16,
    ops: Math.ceil(EVENTS / 2),
    clients: 10,
    keys: 100,
  }).slice(0, EVENTS);
  const jsonl = join(dir, 'history.jsonl');
  const edn = join(dir, 'history.edn');
  writeFileSync(jsonl, `${events.map((e) => stringifyJson(e)).join('\n')}\n`);
  writeFileSync(edn, `[${events.map(jepsenEdn).join('\n ')}]\n`);
  process.stdout.write(
    `\nreading ${events.length.toLocaleString('en')} events (generated and written in ${((performance.now() - t0) / 1000).toFixed(1)} s), fresh process each, median of ${RUNS}\n`,
  );
  const script = join(dir, 'read.mjs');
  writeFileSync(
    script,
    `import { loadHistory } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/checker/history/load.js')).href)};
const t0 = performance.now();
const h = await loadHistory(process.argv[2], 'auto');
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, events: h.events.length }));
`,
  );
  for (const [label, file, target] of [
    ['JSONL', jsonl, 1],
    ['Jepsen EDN', edn, 2],
  ] as const) {
    const runs: { ms: number; rss: number }[] = [];
    let count = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = spawnTimed(dir, probe, [script, file]);
      if (r.status !== 0) {
        process.stdout.write(`  ${label}: failed (exit ${r.status})\n`);
        return;
      }
      const out = JSON.parse(r.stdout) as { ms: number; events: number };
      count = out.events;
      runs.push({ ms: out.ms, rss: r.rssKiB });
    }
    const ms = median(runs.map((r) => r.ms));
    process.stdout.write(
      `  ${label.padEnd(11)} ${(ms / 1000).toFixed(2)} s  ${Math.round(count / (ms / 1000)).toLocaleString('en')} events/s  peak RSS ${MiB(Math.max(...runs.map((r) => r.rss)))}  (target ≤ ${target} s for 1M)\n`,
    );
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-speed-'));
  try {
    const probe = probeModule(dir);
    groups(dir, probe);
    reading(dir, probe);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
