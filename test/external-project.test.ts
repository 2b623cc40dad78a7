/**
 * faultline as a user gets it: packed with `npm pack`, installed as an ordinary dependency of a
 * project outside this repository, driven by that project's own TypeScript config file, and
 * testing that project's own system (test/external/kv-server.mjs, defined in the project with
 * the public API only).
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from './cli.js';

const EXAMPLE = join(ROOT, 'examples', 'user-system');

const project = mkdtempSync(join(tmpdir(), 'faultline-user-project-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const cli = (args: string[]) =>
  execa('node', [join(project, 'node_modules/faultline/bin/faultline.js'), ...args], {
    cwd: project,
    reject: false,
    timeout: 170_000,
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

/** The user's system (examples/user-system/: the server, its definition), copied into the project. */
const userSystemSetup = () => {
  for (const f of ['kv-server.mjs', 'kv-system.ts', 'one-key.workload.ts', 'tiny-kv.spec.ts']) {
    copyFileSync(join(EXAMPLE, f), join(project, f));
  }
};

/** (a) One node that fsyncs every write before answering, killed now and then: linearizable. */
const singleConfig = (backend: string) => `import { defineTest } from 'faultline';
import kv from './kv-system.ts';

export default defineTest({
  name: 'tiny-kv-single-${backend}',
  system: kv,
  backend: '${backend}',
  nodes: 1,
  workload: 'register',
  nemesis: { faults: ['kill'], interval: 1.5 },
  concurrency: 3,
  rate: 100,
  timeLimit: 6,
  recovery: 1,
  opTimeout: 1,
  seed: 5,
});
`;

/**
 * (b) n1 acknowledges a write at once and forwards it 200 ms later; every node answers reads
 * from its own copy. That is certain to show: with 6 workers on 3 nodes at 100 ops/s, two of
 * every three reads go to a follower, and any read there within 200 ms of an acknowledged write
 * (several per second) returns the value before it, after the write completed: a stale read
 * that no order of the ops explains. Partitions then drop forwarded writes for good (the
 * primary sends each once), and kills lose the ones in flight, so followers stay behind.
 */
const asyncArgs = (backend: string) => [
  'run',
  '--system',
  './kv-system.ts',
  '--system-opt',
  'replication=async',
  '--name',
  `tiny-kv-async-${backend}`,
  '--backend',
  backend,
  '--nodes',
  '3',
  '--workload',
  'register',
  '--nemesis',
  'partition,kill',
  '--nemesis-interval',
  '1.5',
  '--concurrency',
  '6',
  '--rate',
  '100',
  '--time-limit',
  '6',
  '--recovery',
  '1',
  '--op-timeout',
  '1',
  '--seed',
  '9',
];

const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    console.log(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
};

describe('a user system defined in the project, with the public API only', () => {
  it('refuses a setting the system does not take, naming it, exit 3, before anything starts', async () => {
    userSystemSetup();
    const bad = await cli([
      'run',
      '--system',
      './kv-system.ts',
      '--system-opt',
      'replication=sync',
    ]);
    expect(bad.stderr).toMatch(/system tiny-kv: setting replication: .*got "sync"/);
    expect(bad.exitCode).toBe(3);
    const unknown = await cli(['run', '--system', './kv-system.ts', '--system-opt', 'n=3']);
    expect(unknown.stderr).toMatch(/system tiny-kv has no setting n/);
    expect(unknown.exitCode).toBe(3);
    const floppy = await cli(['run', '--system-opt', 'storage=floppy']);
    expect(floppy.stderr).toMatch(/system leaderless: setting storage: .*got "floppy"/);
    expect(floppy.exitCode).toBe(3);
    expect(existsSync(join(project, 'results', 'leaderless-register'))).toBe(false);
  }, 60_000);

  it('refuses a workload whose client API the system lacks, naming both', async () => {
    userSystemSetup();
    const r = await cli(['run', '--system', './kv-system.ts', '--workload', 'set', '--nodes', '1']);
    expect(r.stderr).toMatch(
      /the set workload needs the set client API; system tiny-kv does not offer it/,
    );
    expect(r.exitCode).toBe(3);
  }, 60_000);

  // The same two variants on each backend; on docker the image is built from the system's own
  // recipe (the server file copied in, node from faultline's base image).
  for (const backend of ['local', 'docker']) {
    it(`${backend}, unreplicated, one node under kills: valid (exit 0)`, async () => {
      userSystemSetup();
      const config = `single-${backend}.config.ts`;
      writeFileSync(join(project, config), singleConfig(backend));
      const r = await timed(`tiny-kv single ${backend}`, () => cli(['run', '--config', config]));
      expect(r.stdout).toMatch(/status: complete/);
      expect(r.stdout).toMatch(/verdict: valid/);
      expect(r.exitCode).toBe(0);
      // test.json says where the system came from: the config file that carries it.
      const test = JSON.parse(
        readFileSync(join(project, 'results', 'latest', 'test.json'), 'utf8'),
      );
      expect(test.spec.system).toBe('tiny-kv');
      expect(test.spec.backend).toBe(backend);
      expect(test.spec.systemFrom).toBe(join(project, config));
      const again = await cli(['check', 'results/latest']);
      expect(again.stderr).toBe('');
      expect(again.stdout).toMatch(/: valid \(run complete; linearizability valid, stats valid/);
      expect(again.exitCode).toBe(0);
    }, 180_000);

    it(`${backend}, naively async-replicated, under partitions and kills: invalid (exit 1)`, async () => {
      userSystemSetup();
      const r = await timed(`tiny-kv async ${backend}`, () => cli(asyncArgs(backend)));
      expect(r.stdout).toMatch(/status: complete/);
      expect(r.stdout).toMatch(/linearizability: INVALID/);
      expect(r.stdout).toMatch(/verdict: INVALID/);
      expect(r.exitCode).toBe(1);
      const test = JSON.parse(
        readFileSync(join(project, 'results', 'latest', 'test.json'), 'utf8'),
      );
      expect(test.spec.systemFrom).toBe(join(project, 'kv-system.ts'));
      // The re-check rebuilds the system from that module and judges the same.
      const again = await cli(['check', 'results/latest']);
      expect(again.stdout).toMatch(/INVALID \(run complete; linearizability INVALID/);
      expect(again.exitCode).toBe(1);
    }, 180_000);
  }

  it('a vitest suite of the project calls runTest and asserts the verdicts', async () => {
    userSystemSetup();
    // The project's own test runner, from the registry (the local cache first).
    await execa(
      'npm',
      [
        'install',
        '-D',
        'vitest@4',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--ignore-scripts',
      ],
      { cwd: project },
    );
    const r = await timed('vitest example', () =>
      execa('npx', ['vitest', 'run', 'tiny-kv.spec.ts'], {
        cwd: project,
        reject: false,
        timeout: 170_000,
      }),
    );
    expect(r.stdout + r.stderr).toMatch(/3 passed/);
    expect(r.exitCode).toBe(0);
  }, 240_000);
});
