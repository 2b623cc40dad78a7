/**
 * The checker on the reference histories (../shared/testdata), compared with Go Porcupine v1.3.0
 * measured on this machine on the same files. Times include loading (parsing) the file, as Go's
 * did; check-only times are printed beside them. Runs the compiled checker in dist/.
 *
 * `npm run bench -- checker-reference`
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectedVerdicts } from '../test/testdata.js';

// The compiled checker (`npm run bench` builds first): what users run, and worker threads need
// compiled modules to load.
type Checker = typeof import('../checker/index.js');
const { checkLinearizability, loadHistory, splitHistory } = (await import(
  new URL('../dist/checker/index.js', import.meta.url).href
)) as Checker;

export const name = 'checker on reference histories vs Go Porcupine';

const TESTDATA = fileURLToPath(new URL('../../shared/testdata/', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Go Porcupine v1.3.0 on this machine, seconds. */
const GO = { etcd: 0.57, kvByKey: 0.27, kvWhole: 7.0, total: 7.8 };

interface Timed {
  file: string;
  valid: boolean | 'unknown';
  expected: boolean | 'unknown';
  ops: number;
  totalMs: number;
  checkMs: number;
}

async function timeOne(
  file: string,
  expected: boolean,
  model: string,
  opts: { initial?: unknown; partition?: boolean },
): Promise<Timed> {
  const t0 = performance.now();
  const { events } = await loadHistory(file, 'auto');
  const { ops } = splitHistory(events);
  const t1 = performance.now();
  const r = await checkLinearizability(ops, {
    model,
    ...('initial' in opts ? { initial: opts.initial } : {}),
    ...(opts.partition === false ? { partition: false } : {}),
    timeoutMs: 120_000,
  });
  const t2 = performance.now();
  return {
    file: file.slice(TESTDATA.length),
    valid: r.valid,
    // A history with no completed op proves nothing: faultline says unknown where the published
    // verdict is a vacuous true (as test/reference-histories.test.ts expects).
    expected: expected === true && ops.every((o) => o.status !== 'ok') ? 'unknown' : expected,
    ops: ops.length,
    totalMs: t2 - t0,
    checkMs: t2 - t1,
  };
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

function report(title: string, rows: Timed[], goSeconds?: number): number {
  const total = rows.reduce((s, r) => s + r.totalMs, 0);
  const check = rows.reduce((s, r) => s + r.checkMs, 0);
  process.stdout.write(`\n${title}\n`);
  for (const r of rows) {
    const mark = r.valid === r.expected ? '' : `   <-- expected ${r.expected}`;
    process.stdout.write(
      `  ${r.file.padEnd(48)} ${String(r.ops).padStart(6)} ops  ${sec(r.totalMs).padStart(9)}  (check ${sec(r.checkMs)})  ${String(r.valid)}${mark}\n`,
    );
  }
  const ratio =
    goSeconds !== undefined
      ? `; Go ${goSeconds} s: ratio ${(total / 1000 / goSeconds).toFixed(2)}×`
      : '';
  process.stdout.write(`  total ${sec(total)} (check only ${sec(check)})${ratio}\n`);
  const wrong = rows.filter((r) => r.valid !== r.expected).length;
  if (wrong > 0) process.stdout.write(`  !! ${wrong} verdicts differ from expected.tsv\n`);
  return total;
}

/** kv/c50-bad with every key decided, in a fresh process so that its peak memory is its own. */
function c50DecideAll(): void {
  const script = `
    import { checkLinearizability, loadHistory, splitHistory } from ${JSON.stringify(join(ROOT, 'dist/checker/index.js'))};
    const t0 = performance.now();
    const { events } = await loadHistory(${JSON.stringify(join(TESTDATA, 'porcupine/kv/c50-bad.txt'))}, 'auto');
    const { ops } = splitHistory(events);
    const r = await checkLinearizability(ops, { model: 'append-kv', decideAll: true, timeoutMs: 600000 });
    const ms = performance.now() - t0;
    process.stdout.write(JSON.stringify({ valid: r.valid, ms, maxRssKiB: process.resourceUsage().maxRSS,
      partitions: r.partitions.map((p) => [p.key, p.valid, p.elapsedMs]) }));
  `;
  // A script file rather than `-e`: worker threads inherit execArgv, and `--input-type` breaks them.
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-'));
  const file = join(dir, 'c50.mjs');
  writeFileSync(file, script);
  const out = spawnSync(process.execPath, [file], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(
    '\nporcupine/kv/c50-bad.txt, every key decided (--per-partition), own process\n',
  );
  if (out.status !== 0) {
    process.stdout.write(`  failed (exit ${out.status}): ${out.stderr.slice(0, 2000)}\n`);
    return;
  }
  const r = JSON.parse(out.stdout) as {
    valid: boolean | 'unknown';
    ms: number;
    maxRssKiB: number;
    partitions: [string, boolean | 'unknown', number][];
  };
  const counts = { true: 0, false: 0, unknown: 0 };
  for (const [, v] of r.partitions) counts[String(v) as keyof typeof counts] += 1;
  const slowest = [...r.partitions].sort((a, b) => b[2] - a[2]).slice(0, 5);
  process.stdout.write(
    `  verdict ${String(r.valid)}; ${r.partitions.length} keys: ${counts.true} linearizable, ${counts.false} not, ${counts.unknown} unknown\n` +
      `  per key: ${r.partitions.map(([k, v]) => `${k}=${String(v)}`).join(' ')}\n` +
      `  slowest keys: ${slowest.map(([k, , ms]) => `${k} ${sec(ms)}`).join(', ')}\n` +
      `  time ${sec(r.ms)} (target < 10 s), peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB (target < 2048 MiB; Go: 2 keys unknown after 60 s, 8.4 GB)\n`,
  );
}

export async function run(): Promise<void> {
  process.stdout.write('(shared 2-core machine: numbers are noisy)\n');
  const porcupine = expectedVerdicts('porcupine');
  const etcd: Timed[] = [];
  for (const h of porcupine.filter((h) => h.name.includes('/etcd/'))) {
    etcd.push(await timeOne(h.file, h.linearizable, 'cas-register', { initial: null }));
  }
  const etcdMs = report('porcupine/etcd (cas-register, initial nil)', etcd, GO.etcd);

  const kv = porcupine.filter((h) => h.name.includes('/kv/'));
  const byKey: Timed[] = [];
  for (const h of kv) byKey.push(await timeOne(h.file, h.linearizable, 'append-kv', {}));
  const byKeyMs = report('porcupine/kv partitioned by key (append-kv)', byKey, GO.kvByKey);

  const whole: Timed[] = [];
  for (const h of kv.filter((h) => /c01|c10/.test(h.name))) {
    whole.push(await timeOne(h.file, h.linearizable, 'append-kv', { partition: false }));
  }
  const wholeMs = report(
    'porcupine/kv c01/c10 searched whole (--no-partition; Go: the c10 files 3.1 s and 3.8 s)',
    whole,
    GO.kvWhole,
  );

  const knossos: Timed[] = [];
  for (const h of expectedVerdicts('knossos')) {
    knossos.push(await timeOne(h.file, h.linearizable, 'cas-register', { initial: null }));
  }
  report('knossos/cas-register (initial nil; no Go figure)', knossos);

  const total = etcdMs + byKeyMs + wholeMs;
  process.stdout.write(
    `\netcd + kv by key + kv c01/c10 whole: ${sec(total)}; Go ${GO.total} s: ratio ${(total / 1000 / GO.total).toFixed(2)}× (target ≤ 1)\n`,
  );
  c50DecideAll();
  // Keep the folder listing honest: every kv file is in expected.tsv.
  const listed = readdirSync(join(TESTDATA, 'porcupine/kv')).length;
  if (listed !== kv.length)
    process.stdout.write(`  note: ${listed} kv files, ${kv.length} in expected.tsv\n`);
}
