/**
 * The checker on a generated 1M-operation kv history (1000 keys, 10 clients, 5 % info), built in
 * memory from a simulated linearizable store. Target (issue 3): under 10 s and 2 GiB.
 * Prints generation and check times, peak RSS and heap. The machine is shared: numbers are noisy.
 */
import { checkLinearizability } from '../checker/linearizability.js';
import { generateKvHistory } from '../checker/testing/kv-history.js';

export const name = 'checker: generated 1M-op kv history';

const MiB = 1024 * 1024;

function memory(): string {
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const heap = process.memoryUsage().heapUsed;
  return `peak RSS ${(peakRss / MiB).toFixed(0)} MiB, heap now ${(heap / MiB).toFixed(0)} MiB`;
}

export async function run(): Promise<void> {
  const size = Number(process.env.FAULTLINE_BENCH_OPS ?? 1_000_000);
  const t0 = performance.now();
  const ops = generateKvHistory({ ops: size, keys: 1000, clients: 10, infoRate: 0.05, seed: 7 });
  const t1 = performance.now();
  const info = ops.filter((o) => o.status === 'info').length;
  process.stdout.write(
    `generated ${ops.length} ops (${info} info) in ${((t1 - t0) / 1000).toFixed(2)} s; ${memory()}\n`,
  );
  for (const workers of [0, 'auto'] as const) {
    const s = performance.now();
    const cpu = process.cpuUsage();
    const r = await checkLinearizability(ops, { model: 'kv', workers });
    const secs = (performance.now() - s) / 1000;
    const cpuSecs = process.cpuUsage(cpu).user / 1e6;
    const slowest = Math.max(...r.partitions.map((p) => p.elapsedMs));
    process.stdout.write(
      `workers=${workers}: valid=${String(r.valid)} ${r.partitions.length} partitions, ` +
        `${secs.toFixed(2)} s wall, ${cpuSecs.toFixed(2)} s process CPU (${(r.operations / secs / 1000).toFixed(0)}k ops/s, slowest partition ${slowest} ms), ` +
        `target 10 s: ${(secs / 10).toFixed(2)}×; ${memory()}\n`,
    );
  }
}
