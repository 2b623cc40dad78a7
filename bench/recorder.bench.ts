/**
 * Recorder throughput (issue 5 target: ≥ 1M events/s): a million register events (invoke and
 * ok completion, cas values, three keys, ten processes) recorded to a real history.jsonl, best
 * of 3 rounds, with and without the final flush + fsync; also the CPU time per event
 * (process.cpuUsage, which the other jobs on a shared machine disturb less than wall time).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../harness/recorder.js';

export const name = 'recorder: events/s to history.jsonl';

const line = (what: string, value: number, unit: string, target?: number) =>
  process.stdout.write(
    `${what.padEnd(44)} ${value.toFixed(value < 10 ? 2 : 0).padStart(12)} ${unit}` +
      (target !== undefined ? `   (target ${target}: ratio ${(value / target).toFixed(2)})` : '') +
      '\n',
  );

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-recorder-'));
  try {
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
    const baseline = n / 2 / ((performance.now() - t) / 1000);
    line(
      'baseline: JSON.stringify of an event',
      baseline,
      `events/s (${Math.round(bytes / (n / 2))} bytes each, nothing written)`,
    );
    let best = { record: 0, total: 0, cpuUs: Number.POSITIVE_INFINITY, bytes: 0 };
    for (let round = 0; round < 3; round++) {
      const file = join(dir, `history-${round}.jsonl`);
      const r = new Recorder(file);
      const keys = ['r0', 'r1', 'r2'];
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n / 2; i++) {
        const p = i % 10;
        const key = keys[i % 3] as string;
        // Shaped as the interpreter builds them (index and time slots first, set by record).
        r.record({
          index: 0,
          time: 0,
          process: p,
          type: 'invoke',
          f: 'cas',
          key,
          value: [i, i + 1],
        });
        r.record({
          index: 0,
          time: 0,
          process: p,
          type: 'ok',
          f: 'cas',
          key,
          value: [i, i + 1],
          node: 'n1',
        });
      }
      const recorded = performance.now();
      r.close();
      const closed = performance.now();
      const cpu = process.cpuUsage(cpu0);
      const rate = {
        record: n / ((recorded - t0) / 1000),
        total: n / ((closed - t0) / 1000),
        cpuUs: (cpu.user + cpu.system) / n,
        bytes: statSync(file).size,
      };
      if (rate.record > best.record) best = rate;
      rmSync(file);
    }
    line('recorder: events/s (1M events, best of 3)', best.record, 'events/s', 1_000_000);
    line('recorder: incl. final flush + fsync', best.total, 'events/s', 1_000_000);
    line('recorder: CPU per event (same round)', best.cpuUs, 'µs');
    // Less sensitive to a busy machine than the rate alone: both slow down together.
    line('recorder / JSON.stringify baseline', best.record / baseline, 'ratio');
    line('recorder: bytes per event', best.bytes / n, 'B');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
