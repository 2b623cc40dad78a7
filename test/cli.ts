/**
 * Running the built CLI (`node bin/faultline.js`) from tests. `npm test` builds before vitest;
 * when the build is missing or older than the sources (a bare `vitest run`), it is rebuilt once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** Builds dist/ when it is missing or stale. Type errors elsewhere don't stop tsc emitting. */
export function ensureBuilt(): void {
  const sources = Math.max(
    ...[
      'checker',
      'core',
      'generators',
      'backends',
      'workloads',
      'nemesis',
      'harness',
      'api',
      'cli',
    ].map((d) => newestSource(join(ROOT, d))),
  );
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= sources) return;
  spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(MAIN)) throw new Error('npm run build did not produce dist/cli/main.js');
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `faultline ARGS...` in `cwd` (the repository root by default). */
export async function faultline(args: readonly string[], cwd = ROOT): Promise<CliRun> {
  const r = await execa('node', [join(ROOT, 'bin/faultline.js'), ...args], {
    cwd,
    reject: false,
    timeout: 120_000,
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}
