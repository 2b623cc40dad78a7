/**
 * faultline as a user gets it: packed with `npm pack`, installed as an ordinary dependency of a
 * project outside this repository, driven by that project's own TypeScript config file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from './cli.js';

const project = mkdtempSync(join(tmpdir(), 'faultline-user-project-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const cli = (args: string[]) =>
  execa('node', [join(project, 'node_modules/faultline/bin/faultline.js'), ...args], {
    cwd: project,
    reject: false,
    timeout: 120_000,
  });

beforeAll(async () => {
  ensureBuilt();
  const packed = await execa('npm', ['pack', '--pack-destination', project, '--silent'], {
    cwd: ROOT,
  });
  const tarball = join(project, packed.stdout.trim().split('\n').at(-1)!);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user-project', private: true, type: 'module' }),
  );
  // Its dependencies come from the registry (the local cache first); no install scripts needed.
  await execa(
    'npm',
    ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'],
    { cwd: project },
  );
}, 240_000);

describe('faultline installed from npm pack into a project outside the repository', () => {
  it('runs a TS config that imports faultline/harness, to a valid verdict', async () => {
    writeFileSync(
      join(project, 'chaos.config.ts'),
      `import { defineTest } from 'faultline/harness';

export default defineTest({
  name: 'user-chaos',
  nodes: 3,
  workload: 'register',
  nemesis: { faults: ['kill'], interval: 2 },
  concurrency: 4,
  rate: 100,
  timeLimit: 5,
  recovery: 1,
  opTimeout: 1,
  seed: 21,
  settings: { fsync: 'always' },
});
`,
    );
    const r = await cli(['run', '--config', 'chaos.config.ts']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/status: complete/);
    expect(r.stdout).toMatch(/verdict: valid/);
    expect(r.exitCode).toBe(0);
    const latest = join(project, 'results', 'user-chaos', 'latest');
    expect(existsSync(join(project, 'results', 'latest', 'results.json'))).toBe(true);
    expect(existsSync(latest)).toBe(false);
    const results = JSON.parse(
      readFileSync(join(project, 'results', 'latest', 'results.json'), 'utf8'),
    );
    expect(results.run).toEqual({ status: 'complete', verdict: 'valid', reasons: [] });
  }, 120_000);

  it('names a typo inside the workload of a config file, exit 3', async () => {
    writeFileSync(
      join(project, 'typo.config.ts'),
      `import { defineTest } from 'faultline/harness';
export default defineTest({ workload: { name: 'register', optons: { keys: 2 } } } as never);
`,
    );
    const r = await cli(['run', '--config', 'typo.config.ts']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/typo\.config\.ts: unknown field optons in workload/);
  }, 60_000);
});
