import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countOutcomes } from './count-results.mjs';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const CASES = here('./fixtures/vitest-outcomes');
/** Recorded by running vitest with ./vitest-outcomes.mjs on the cases in CASES. */
const recorded = JSON.parse(readFileSync(here('./fixtures/vitest-outcomes.json'), 'utf8'));

interface Test {
  name: string;
  parent: string | null;
  mode: string;
  state: string;
}
const run = (modules: unknown[], unhandledErrors: string[] = []) =>
  countOutcomes({ reason: 'passed', unhandledErrors, modules });
const mod = (tests: Test[], suites: unknown[] = [], errors: string[] = []) => ({
  file: 'x.test.ts',
  state: 'passed',
  errors,
  suites,
  tests,
});
const test = (name: string, state: string, mode = 'run', parent: string | null = null): Test => ({
  name,
  parent,
  mode,
  state,
});

describe('counting a vitest run for the closing line', () => {
  it('counts the tests of a suite whose beforeAll threw as failed, not skipped (recorded report)', () => {
    const c = countOutcomes(recorded);
    // vitest itself says: 1 failed | 3 passed | 7 skipped | 1 todo.
    expect({ passed: c.passed, failed: c.failed, skipped: c.skipped }).toEqual({
      passed: 3,
      // 1 assertion + 3 under the failed describe's beforeAll + 1 under the failed file-level
      // beforeAll + the afterAll that threw + the file that failed to load.
      failed: 7,
      // it.skip twice, it.todo, ctx.skip(): skipped on purpose.
      skipped: 4,
    });
    expect(c.notes).toEqual([
      'file-setup-fails.case.ts: setup failed (file-level setup failed); 1 test(s) not run, counted failed',
      "load-fails.case.ts: Cannot find module './does-not-exist.js' imported from load-fails.case.ts; counted as one failure",
      'suite-setup-fails.case.ts > a suite whose beforeAll throws: setup failed (no Docker engine answers); 3 test(s) not run, counted failed',
      'teardown-fails.case.ts > a suite whose afterAll throws: The "path" argument must be of type string. Received undefined; counted as one failure',
    ]);
  });

  it('counts a clean run as it is, skips and todos as skipped', () => {
    const suites = [{ id: 's', name: 's', parent: null, state: 'passed', errors: [] }];
    const c = run([
      mod(
        [test('a', 'passed'), test('b', 'skipped', 'skip', 's'), test('c', 'skipped', 'todo')],
        suites,
      ),
    ]);
    expect(c).toEqual({ passed: 1, failed: 0, skipped: 2, notes: [] });
  });

  it('counts a test that never finished, and every unhandled error, as failed', () => {
    const c = run([mod([test('a', 'pending'), test('b', 'passed')])], ['boom\n  at x']);
    expect(c).toEqual({
      passed: 1,
      failed: 2,
      skipped: 0,
      notes: ['x.test.ts > a: never finished', 'unhandled error: boom'],
    });
  });

  it('charges a failed setup to the nearest failed suite, through nested suites', () => {
    const suites = [
      { id: 'outer', name: 'outer', parent: null, state: 'failed', errors: ['no engine'] },
      { id: 'inner', name: 'outer > inner', parent: 'outer', state: 'skipped', errors: [] },
      { id: 'other', name: 'other', parent: null, state: 'passed', errors: [] },
    ];
    const c = run([
      mod(
        [
          test('i', 'skipped', 'run', 'inner'),
          test('o', 'skipped', 'run', 'outer'),
          test('p', 'passed', 'run', 'other'),
          test('q', 'skipped', 'run', 'other'), // ctx.skip() outside the failed suite
        ],
        suites,
      ),
    ]);
    expect(c).toMatchObject({ passed: 1, failed: 2, skipped: 1 });
  });

  it('is what vitest reports today: the reporter, run on the recorded cases, gives the fixture', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-outcomes-'));
    try {
      const file = join(dir, 'outcomes.json');
      const r = spawnSync(
        process.execPath,
        [
          here('../node_modules/vitest/vitest.mjs'),
          'run',
          '--reporter=dot',
          `--reporter=${here('./vitest-outcomes.mjs')}`,
        ],
        {
          cwd: CASES,
          encoding: 'utf8',
          env: { ...process.env, FAULTLINE_OUTCOMES_FILE: file },
        },
      );
      expect(r.status, r.stderr).toBe(1);
      const fresh = JSON.parse(readFileSync(file, 'utf8').replaceAll(`${CASES}/`, ''));
      const byFile = (o: { modules: { file: string }[] }) =>
        [...o.modules].sort((a, b) => a.file.localeCompare(b.file));
      expect(byFile(fresh)).toEqual(byFile(recorded));
      expect(countOutcomes({ ...fresh, modules: byFile(fresh) })).toEqual(
        countOutcomes({ ...recorded, modules: byFile(recorded) }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
