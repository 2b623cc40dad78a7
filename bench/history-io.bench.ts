/**
 * History I/O throughput: writing and reading a 1M-event JSONL history (target: read in about
 * 1-2 s), the zod-only validation path for comparison, and the Jepsen importers on the
 * reference files. The machine is shared: numbers are noisy.
 */

import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { historyEventSchema } from '../checker/history/event.js';
import { toEdnHistory, toEdnLines, toJepsenLog } from '../checker/history/export.js';
import { generateHistory } from '../checker/history/generate.js';
import { JsonlHistoryWriter, readJsonlEvents, readJsonlHistory } from '../checker/history/jsonl.js';
import { loadHistory } from '../checker/history/load.js';
import { pairOperations } from '../checker/history/pair.js';

export const name = 'history I/O';

const EVENTS = 1_000_000;
const READ_TARGET_S = 2;

/** CPU time (user + system) since `start`: less disturbed than wall time on a shared machine. */
function cpuSeconds(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
}

function report(label: string, count: number, wall: number, cpu: number, note = ''): void {
  const rate = Math.round(count / wall).toLocaleString('en');
  const heap = (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0);
  process.stdout.write(
    `${label.padEnd(44)} ${wall.toFixed(2).padStart(6)} s (cpu ${cpu.toFixed(2)} s) ${rate.padStart(11)} events/s  heap ${heap} MiB${note}\n`,
  );
}

async function time<T>(label: string, count: number, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const result = await fn();
  report(label, count, (performance.now() - t0) / 1000, cpuSeconds(c0));
  return result;
}

/** Best of three (wall and cpu each): the machine is shared and garbage collection is noisy. */
async function best(label: string, count: number, fn: () => Promise<unknown>): Promise<number> {
  const runs: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await fn();
    runs.push((performance.now() - t0) / 1000);
    cpus.push(cpuSeconds(c0));
  }
  const wall = Math.min(...runs);
  report(
    label,
    count,
    wall,
    Math.min(...cpus),
    `  (runs ${runs.map((r) => r.toFixed(2)).join(', ')})`,
  );
  return wall;
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-history-bench-'));
  try {
    const file = join(dir, 'history.jsonl');
    const events = await time('generate (10 clients, 1000 keys, 5% info)', EVENTS, async () =>
      generateHistory({ seed: 1, ops: EVENTS / 2, clients: 10, keys: 1000, infoRate: 0.05 }),
    );
    const n = events.length;
    await time('JsonlHistoryWriter append + close', n, async () => {
      const w = await JsonlHistoryWriter.open(file);
      for (const e of events) w.append(e);
      await w.close();
    });
    const size = (await stat(file)).size;
    process.stdout.write(
      `file: ${n.toLocaleString('en')} lines, ${(size / 2 ** 20).toFixed(0)} MiB\n`,
    );
    events.length = 0;

    await best('readJsonlEvents (schema only, streamed)', n, async () => {
      let count = 0;
      for await (const _ of readJsonlEvents(file)) count += 1;
      return count;
    });
    const readS = await best('readJsonlHistory (schema + well-formed)', n, () =>
      readJsonlHistory(file),
    );
    await best('loadHistory auto (+ detection)', n, () => loadHistory(file));
    const { events: loaded } = await loadHistory(file);
    await time('pairOperations', n, async () => pairOperations(loaded));
    loaded.length = 0;
    await best('for comparison: readline + JSON.parse + zod', n, async () => {
      let count = 0;
      const rl = createInterface({
        input: createReadStream(file),
        crlfDelay: Number.POSITIVE_INFINITY,
      });
      for await (const line of rl) {
        historyEventSchema.parse(JSON.parse(line));
        count += 1;
      }
      return count;
    });
    process.stdout.write(
      `read 1M-line history (readJsonlHistory, best of 3): ${readS.toFixed(2)} s; target ${READ_TARGET_S} s: ratio ${(readS / READ_TARGET_S).toFixed(2)}\n`,
    );

    // The importers on a generated 100k-op history written in each Jepsen format.
    const small = generateHistory({ seed: 2, ops: 50_000, clients: 10, infoRate: 0.05 });
    const exports: [string, string][] = [
      ['edn', toEdnHistory(small)],
      ['edn-lines', toEdnLines(small)],
      ['jepsen-log', toJepsenLog(small)],
    ];
    for (const [format, text] of exports) {
      const path = join(dir, `history.${format}`);
      await writeFile(path, text);
      await time(
        `import ${format} (${small.length.toLocaleString('en')} events)`,
        small.length,
        () => loadHistory(path),
      );
    }

    const root = fileURLToPath(new URL('../../shared/testdata/', import.meta.url));
    for (const sub of [
      'porcupine/etcd',
      'porcupine/kv',
      'knossos/cas-register/good',
      'knossos/cas-register/bad',
    ]) {
      const files = (await readdir(join(root, sub))).filter((f) => !f.endsWith('.md'));
      let count = 0;
      let bytes = 0;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      for (const f of files) {
        const h = await loadHistory(join(root, sub, f));
        count += h.events.length;
        bytes += (await stat(join(root, sub, f))).size;
      }
      const wall = (performance.now() - t0) / 1000;
      report(`import ${sub} (${files.length} files)`, count, wall, cpuSeconds(c0));
      process.stdout.write(
        `  ${count.toLocaleString('en')} events, ${(bytes / 2 ** 20).toFixed(1)} MiB\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
