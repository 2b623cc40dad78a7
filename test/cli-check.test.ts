/**
 * `faultline check` end to end: the built CLI spawned as a user would run it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultsSchema } from '../checker/results.js';
import { ensureBuilt, faultline, ROOT } from './cli.js';
import { TESTDATA } from './testdata.js';

const STALE = join(ROOT, 'examples/stale-read.jsonl');
const OK = join(ROOT, 'examples/cas-register-ok.jsonl');
let tmp: string;

/** A JSONL history from [time, process, type, f, value?, key?] rows. */
function jsonl(rows: readonly (readonly unknown[])[]): string {
  return rows
    .map(([time, process, type, f, value, key], index) =>
      JSON.stringify({
        index,
        time,
        process,
        type,
        f,
        ...(value !== undefined ? { value } : {}),
        ...(key !== undefined ? { key } : {}),
      }),
    )
    .join('\n')
    .concat('\n');
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'));
}

beforeAll(async () => {
  ensureBuilt();
  tmp = await mkdtemp(join(tmpdir(), 'faultline-cli-'));
}, 300_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('faultline check: verdicts and exit codes', () => {
  it('exits 0 on a linearizable history', async () => {
    const r = await faultline(['check', OK, '--model', 'cas-register']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cas-register-ok.jsonl: linearizable');
  });

  it('exits 1 on an anomaly and says which op could not be placed', async () => {
    const r = await faultline(['check', STALE, '--model', 'cas-register']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('stale-read.jsonl: NOT LINEARIZABLE');
    expect(r.stdout).toMatch(
      /history: not linearizable: after \d+ of 7 ops \(state \d\) none of \[p\d #\d+\] .+ can be placed/,
    );
  });

  it('exits 2 when the search budget runs out', async () => {
    // 10 clients' appends searched as one history: about half a second of search (measured), far
    // past a 1 ms budget.
    const file = join(TESTDATA, 'porcupine/kv/c10-ok.txt');
    const r = await faultline([
      'check',
      file,
      '--model',
      'append-kv',
      '--no-partition',
      '--timeout',
      '0.001',
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('UNKNOWN');
  });

  it('--initial sets the initial value, as JSON', async () => {
    const file = join(tmp, 'read-zero.jsonl');
    await writeFile(
      file,
      jsonl([
        [1, 0, 'invoke', 'read'],
        [2, 0, 'ok', 'read', 0],
      ]),
    );
    expect((await faultline(['check', file, '--model', 'cas-register'])).code).toBe(1);
    expect(
      (await faultline(['check', file, '--model', 'cas-register', '--initial', '0'])).code,
    ).toBe(0);
    expect(
      (await faultline(['check', file, '--model', 'cas-register', '--initial', 'null'])).code,
    ).toBe(1);
    const str = join(tmp, 'read-x.jsonl');
    await writeFile(
      str,
      jsonl([
        [1, 0, 'invoke', 'read'],
        [2, 0, 'ok', 'read', 'x'],
      ]),
    );
    expect(
      (await faultline(['check', str, '--model', 'cas-register', '--initial', '"x"'])).code,
    ).toBe(0);
  });
});

describe('faultline check --json', () => {
  it('prints exactly one JSON object per file and nothing else', async () => {
    const r = await faultline(['check', OK, STALE, '--model', 'cas-register', '--json']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(2);
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const o of objs) {
      expect(Object.keys(o).sort()).toEqual(['elapsedMs', 'file', 'ops', 'partitions', 'valid']);
      expect(typeof o.elapsedMs).toBe('number');
    }
    expect(objs.map((o) => [o.file, o.valid, o.ops, o.partitions])).toEqual([
      [OK, true, 9, 1],
      [STALE, false, 7, 1],
    ]);
  });
});

describe('faultline check --out', () => {
  it('writes results.json and timeline.html for one history', async () => {
    const out = join(tmp, 'one');
    const r = await faultline(['check', STALE, '--model', 'cas-register', '--out', out]);
    expect(r.code).toBe(1);
    const results = resultsSchema.parse(await readJson(join(out, 'results.json')));
    expect(results.valid).toBe(false);
    expect(results.model).toBe('cas-register');
    expect(results.ops).toBe(7);
    const lin = results.checkers.linearizability!;
    const bad = lin.partitions.find((p) => p.valid === false)!;
    // The evidence names real ops of the file: each stuck op by the history index of its invoke
    // and its process.
    const history = (await readFile(STALE, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; process: unknown; type: string });
    const ev = bad.evidence!;
    expect(ev.stuck.length).toBeGreaterThan(0);
    for (const s of ev.stuck) {
      expect(history[s.index]).toMatchObject({ type: 'invoke', process: s.process });
    }
    // Worked out by hand: write 1, read 1, write 2 linearize; then the stale read of 1 (history
    // index 7, process 2) cannot follow write 2, and nothing else may come before it.
    expect(ev.linearized).toBe(3);
    expect(ev.stateAfter).toBe('2');
    expect(ev.stuck.map((s) => [s.index, s.process])).toEqual([[7, 2]]);
    const html = await readFile(join(out, 'timeline.html'), 'utf8');
    for (const s of ev.stuck) expect(html).toContain(s.description);
    expect(html).toContain('could not be placed');
    expect(html).toContain('partition-start');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('writes one subfolder per history when given several', async () => {
    const out = join(tmp, 'several');
    const r = await faultline(['check', STALE, OK, '--model', 'cas-register', '--out', out]);
    expect(r.code).toBe(1);
    const a = resultsSchema.parse(await readJson(join(out, 'stale-read/results.json')));
    const b = resultsSchema.parse(await readJson(join(out, 'cas-register-ok/results.json')));
    expect([a.valid, b.valid]).toEqual([false, true]);
    expect(await readFile(join(out, 'cas-register-ok/timeline.html'), 'utf8')).toContain(
      'The whole history',
    );
  });
});

describe('faultline check RESULTS-FOLDER', () => {
  it("re-checks the folder's history with the model in its test.json, reproducing results.json", async () => {
    const dir = join(tmp, 'run');
    await rm(dir, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir);
    await writeFile(join(dir, 'history.jsonl'), await readFile(STALE));
    await writeFile(
      join(dir, 'test.json'),
      JSON.stringify({ name: 'stale', seed: 7, check: { model: 'cas-register', initial: null } }),
    );
    const first = await faultline(['check', dir]);
    expect(first.code).toBe(1);
    const withoutTimes = (r: unknown): unknown =>
      JSON.parse(JSON.stringify(r, (k, v) => (k === 'elapsedMs' ? 0 : v)));
    const a = resultsSchema.parse(await readJson(join(dir, 'results.json')));
    expect(a.history).toBe('history.jsonl');
    expect(a.checkers.linearizability?.initial).toBeNull();
    const second = await faultline(['check', dir, '--json']);
    expect(second.code).toBe(1);
    const b = resultsSchema.parse(await readJson(join(dir, 'results.json')));
    expect(withoutTimes(b)).toEqual(withoutTimes(a));
  });

  it('asks for --model when the run recorded no linearizability model', async () => {
    const dir = join(tmp, 'run-none');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'history.jsonl'), await readFile(OK));
    await writeFile(join(dir, 'test.json'), JSON.stringify({ check: { model: 'none' } }));
    const r = await faultline(['check', dir]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('field check.model: "none" is not a linearizability model');
    const forced = await faultline(['check', dir, '--model', 'cas-register', '--json']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ file: dir, valid: true });
  });

  it('says what is wrong with a folder that is not a results folder', async () => {
    const r = await faultline(['check', tmp, '--model', 'cas-register']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('has no test.json');
  });
});

describe('faultline check: partitions', () => {
  const twoBadKeys = jsonl([
    [1, 0, 'invoke', 'write', 1, 'a'],
    [2, 0, 'ok', 'write', 1, 'a'],
    [3, 0, 'invoke', 'read', undefined, 'a'],
    [4, 0, 'ok', 'read', 2, 'a'],
    [5, 1, 'invoke', 'write', 1, 'b'],
    [6, 1, 'ok', 'write', 1, 'b'],
    [7, 1, 'invoke', 'read', undefined, 'b'],
    [8, 1, 'ok', 'read', 3, 'b'],
    [9, 2, 'invoke', 'write', 5, 'c'],
    [10, 2, 'ok', 'write', 5, 'c'],
  ]);

  it('--per-partition decides every key; --no-partition searches one history', async () => {
    const file = join(tmp, 'two-bad-keys.jsonl');
    await writeFile(file, twoBadKeys);
    const out = join(tmp, 'per-partition');
    const all = await faultline(['check', file, '--model', 'kv', '--per-partition', '--out', out]);
    expect(all.code).toBe(1);
    const lin = resultsSchema.parse(await readJson(join(out, 'results.json'))).checkers
      .linearizability!;
    expect(lin.decideAll).toBe(true);
    expect(
      lin.partitions
        .map((p) => [p.key, p.valid])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    ).toEqual([
      ['a', false],
      ['b', false],
      ['c', true],
    ]);
    const whole = await faultline(['check', file, '--model', 'kv', '--no-partition', '--json']);
    expect(whole.code).toBe(1);
    expect(JSON.parse(whole.stdout)).toMatchObject({ valid: false, partitions: 1, ops: 5 });
  });
});

describe('faultline check: bad input and usage (exit 3)', () => {
  it('names the unknown model and lists the known ones', async () => {
    const r = await faultline(['check', OK, '--model', 'nope']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('--model "nope"');
    expect(r.stderr).toMatch(/known models: .*cas-register/);
    expect(r.stdout).toBe('');
  });

  it('names a bad --format, --timeout or --initial and the value given', async () => {
    const fmt = await faultline(['check', OK, '--model', 'cas-register', '--format', 'xml']);
    expect(fmt.code).toBe(3);
    expect(fmt.stderr).toContain('--format "xml"');
    const timeout = await faultline(['check', OK, '--model', 'cas-register', '--timeout', 'soon']);
    expect(timeout.code).toBe(3);
    expect(timeout.stderr).toContain('--timeout "soon"');
    const initial = await faultline(['check', OK, '--model', 'cas-register', '--initial', 'x']);
    expect(initial.code).toBe(3);
    expect(initial.stderr).toContain('--initial "x"');
    expect(initial.stderr).toContain(`--initial '"x"'`);
  });

  it('says when the model takes no initial value', async () => {
    const r = await faultline(['check', OK, '--model', 'set', '--initial', '0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('has no configurable initial value');
  });

  it('names an op the model cannot interpret', async () => {
    const r = await faultline(['check', OK, '--model', 'fifo-queue']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cas-register-ok.jsonl');
    expect(r.stderr).toContain('f="write"');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('asks for --model when checking a file', async () => {
    const r = await faultline(['check', OK]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('--model is required');
  });

  it('names a missing file', async () => {
    const r = await faultline(['check', join(tmp, 'missing.jsonl'), '--model', 'register']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('missing.jsonl');
    expect(r.stderr).toContain('no such file');
  });

  it('names the file, line and field of a malformed history, without a stack trace', async () => {
    const file = join(tmp, 'bad-type.jsonl');
    await writeFile(
      file,
      `${jsonl([[1, 0, 'invoke', 'write', 1]])}{"index":1,"time":2,"process":0,"type":"done","f":"write"}\n`,
    );
    const r = await faultline(['check', file, '--model', 'cas-register']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('bad-type.jsonl:2:');
    expect(r.stderr).toContain('type');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('still checks the good files but exits 3 when one is unreadable', async () => {
    const r = await faultline([
      'check',
      OK,
      join(tmp, 'missing.jsonl'),
      '--model',
      'cas-register',
      '--json',
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout.split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ file: OK, valid: true });
  });

  it('rejects an unknown flag and a missing subcommand argument', async () => {
    expect((await faultline(['check', OK, '--modle', 'x'])).code).toBe(3);
    expect((await faultline(['check'])).code).toBe(3);
    expect((await faultline(['frobnicate'])).code).toBe(3);
  });
});
