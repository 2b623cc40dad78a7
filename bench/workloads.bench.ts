/**
 * Issue target: a 60 s run of every workload at the default rate produces a verdict within 2 s
 * after the final phase. Each workload runs once on 3 local leaderless nodes (the eventual
 * workloads need every node to hold every key: n = nodes), with partitions, kills and pauses,
 * 60 s at the default rate; the runner's phase log lines time the tail of the run:
 *   final phase end → verdict = teardown + check, and check alone (phase `check` → return).
 * BENCH_WORKLOAD_SECONDS shortens the main phase for a quick look. Shared 2-core machine:
 * numbers are noisy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRunDeps } from '../api/registries.js';
import { runTest } from '../harness/runner.js';
import { parseSpec, resolveSpec } from '../harness/spec.js';

export const name = 'workloads: verdict time after the final phase';

const TARGET_MS = 2000;
const WORKLOADS: Array<{ name: string; settings?: Record<string, string> }> = [
  { name: 'register', settings: { fsync: 'always' } },
  { name: 'kv', settings: { fsync: 'always' } },
  { name: 'eventual-kv' },
  { name: 'set' },
  { name: 'counter' },
];

export async function run(): Promise<void> {
  const seconds = Number(process.env.BENCH_WORKLOAD_SECONDS ?? 60);
  const out = mkdtempSync(join(tmpdir(), 'faultline-bench-workloads-'));
  process.stdout.write(
    `${seconds} s main phase per workload, default rate, 3 local nodes, partition+kill+pause; target ≤ ${TARGET_MS} ms from the end of the final phase to the verdict\n`,
  );
  try {
    for (const w of WORKLOADS) {
      const marks = new Map<string, number>();
      const spec = resolveSpec(
        parseSpec({
          name: `bench-${w.name}`,
          nodes: 3,
          workload: { name: w.name },
          nemesis: { faults: ['partition', 'kill', 'pause'] },
          timeLimit: seconds,
          recovery: 2,
          seed: 42,
          out,
          ...(w.settings ? { settings: w.settings } : {}),
        }),
        () => 0,
      );
      const outcome = await runTest(spec, defaultRunDeps(), {
        log: (line) => {
          const m = /^phase: (\w+)/.exec(line);
          if (m) marks.set(m[1] as string, performance.now());
        },
      });
      const done = performance.now();
      const finalEnd = marks.get('teardown');
      const check = marks.get('check');
      const tail = finalEnd === undefined ? Number.NaN : done - finalEnd;
      const checkOnly = check === undefined ? Number.NaN : done - check;
      const ops = outcome.results.checkers.stats as { count?: number } | undefined;
      process.stdout.write(
        `${w.name.padEnd(12)} ${String(ops?.count ?? '?').padStart(6)} ops  verdict ${String(outcome.valid).padEnd(7)}  final phase end → verdict ${tail.toFixed(0).padStart(5)} ms (check ${checkOnly.toFixed(0)} ms, teardown ${(tail - checkOnly).toFixed(0)} ms)  ratio to target ${(tail / TARGET_MS).toFixed(2)}\n`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
