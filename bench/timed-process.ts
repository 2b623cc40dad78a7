import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * A Node process timed whole: wall time, and its peak RSS and CPU time as the process itself
 * saw them at exit (a probe module imported first with `--import` appends them to a file; worker
 * threads import it too, and the largest figures are the process's).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface TimedRun {
  wallMs: number;
  rssKiB: number;
  /** User + system CPU time of the whole process. */
  cpuMs: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Writes the probe module into `dir`; returns its URL for `--import`. */
export function probeModule(dir: string): string {
  const file = join(dir, 'probe.mjs');
  writeFileSync(
    file,
    `import { appendFileSync } from 'node:fs';
process.on('exit', () => {
  const u = process.resourceUsage();
  if (process.env.FAULTLINE_BENCH_RSS) appendFileSync(process.env.FAULTLINE_BENCH_RSS, u.maxRSS + ' ' + (u.userCPUTime + u.systemCPUTime) + '\\n');
});
`,
  );
  return pathToFileURL(file).href;
}

/** Runs `node --import probe ...args` from the repository root and measures it. */
export function spawnTimed(dir: string, probe: string, args: string[]): TimedRun {
  const figures = join(dir, 'figures.txt');
  rmSync(figures, { force: true });
  const t0 = performance.now();
  const out = spawnSync(process.execPath, ['--import', probe, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, FAULTLINE_BENCH_RSS: figures },
  });
  const wallMs = performance.now() - t0;
  let rssKiB = 0;
  let cpuUs = 0;
  try {
    for (const line of readFileSync(figures, 'utf8').split('\n')) {
      const [rss, cpu] = line.split(' ').map(Number);
      rssKiB = Math.max(rssKiB, rss || 0);
      cpuUs = Math.max(cpuUs, cpu || 0);
    }
  } catch {
    // no figures: the process died before its exit handlers ran
  }
  return {
    wallMs,
    rssKiB,
    cpuMs: cpuUs / 1000,
    status: out.status,
    stdout: out.stdout,
    stderr: out.stderr,
  };
}
