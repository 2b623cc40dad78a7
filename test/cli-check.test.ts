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

  /** A run folder as `faultline run` leaves it, for a leaderless register run. */
  async function runFolder(name: string, history: string, record: Record<string, unknown>) {
    const dir = join(tmp, name);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'history.jsonl'), history);
    await writeFile(
      join(dir, 'test.json'),
      JSON.stringify({
        seed: 5,
        spec: { system: 'leaderless', workload: { name: 'register' }, nodes: 3, seed: 5 },
        check: { model: 'kv', initial: null },
        ...record,
      }),
    );
    return dir;
  }

  it('a run folder whose history has a malformed line in the middle: one clean error, exit 3', async () => {
    const good = jsonl([
      [1, 0, 'invoke', 'write', 1, 'r0'],
      [2, 0, 'ok', 'write', 1, 'r0'],
    ]).split('\n');
    const history = `${good[0]}\n{"index":1,"time":2,"process":0,"ty\n${good[1]}\n`;
    const dir = await runFolder('run-malformed', history, { status: 'complete' });
    const r = await faultline(['check', dir]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/history\.jsonl:2/);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a run killed while its cluster started (nothing recorded) re-checks as crashed: unknown, exit 2', async () => {
    // Still "running" in test.json, and its process (a pid that has exited) is gone.
    const { execa } = await import('execa');
    const dead = Number(
      (await execa('node', ['-e', 'process.stdout.write(String(process.pid))'])).stdout,
    );
    const dir = await runFolder('run-killed-at-start', '', { status: 'running', pid: dead });
    const r = await faultline(['check', dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/: unknown \(run crashed; .*0 ops/);
    expect(r.stdout).toMatch(/because no client operation was recorded/);
    expect(JSON.parse(await readFile(join(dir, 'test.json'), 'utf8')).status).toBe('crashed');
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

describe('faultline check: values, times and keys are taken exactly', () => {
  /** Writes `text` to a file in tmp and checks it with `args`. */
  async function check(name: string, text: string, args: readonly string[]) {
    const file = join(tmp, name);
    await writeFile(file, text);
    return faultline(['check', file, ...args]);
  }

  it('a read of a string spelled like a tagged array is not a read of the array', async () => {
    const text = [
      '{"index":0,"time":0,"process":0,"type":"invoke","f":"write","value":[1]}',
      '{"index":1,"time":1,"process":0,"type":"ok","f":"write","value":[1]}',
      '{"index":2,"time":2,"process":1,"type":"invoke","f":"read"}',
      '{"index":3,"time":3,"process":1,"type":"ok","f":"read","value":"\\u0000json:[1]"}',
      '',
    ].join('\n');
    const r = await check('tagged-string.jsonl', text, ['--model', 'register']);
    expect(r.stdout).toContain('NOT LINEARIZABLE');
    expect(r.code).toBe(1);
  });

  it('integers beyond 2^53 are not merged, in JSONL and EDN, and are written back exactly', async () => {
    const jsonlText = jsonl([
      [0, 0, 'invoke', 'write', 1, 'k'],
      [1, 0, 'ok', 'write', 1, 'k'],
      [2, 0, 'invoke', 'read', undefined, 'k'],
      [3, 0, 'ok', 'read', 2, 'k'],
    ])
      .replace(/"value":1/g, '"value":9007199254740993')
      .replace('"value":2', '"value":9007199254740992')
      .replaceAll('"key":"k"', '"key":18446744073709551615');
    const out = join(tmp, 'big-out');
    const a = await check('big.jsonl', jsonlText, ['--model', 'kv', '--out', out]);
    expect(a.stdout).toContain('NOT LINEARIZABLE');
    expect(a.code).toBe(1);
    const results = await readFile(join(out, 'results.json'), 'utf8');
    expect(
      resultsSchema.parse(JSON.parse(results)).checkers.linearizability!.partitions[0]!.key,
    ).toBe('18446744073709551615');
    expect(results).toContain('9007199254740993');
    const edn = [
      '[{:process 0, :type :invoke, :f :write, :value 9007199254740993}',
      ' {:process 0, :type :ok, :f :write, :value 9007199254740993}',
      ' {:process 1, :type :invoke, :f :read, :value nil}',
      ' {:process 1, :type :ok, :f :read, :value 9007199254740992}]',
      '',
    ].join('\n');
    const b = await check('big.edn', edn, ['--model', 'register']);
    expect(b.stdout).toContain('NOT LINEARIZABLE');
    expect(b.code).toBe(1);
    // The same with the one integer both reads and writes: linearizable.
    const same = await check('big-same.edn', edn.replace('9007199254740992', '9007199254740993'), [
      '--model',
      'register',
    ]);
    expect(same.code).toBe(0);
  });

  it('keys 1 and "1" are two keys, with two names in results.json', async () => {
    const text = jsonl([
      [0, 0, 'invoke', 'write', 5, 1],
      [1, 0, 'ok', 'write', 5, 1],
      [2, 1, 'invoke', 'read', undefined, '1'],
      [3, 1, 'ok', 'read', 5, '1'],
    ]);
    const out = join(tmp, 'keys-out');
    const r = await check('keys.jsonl', text, ['--model', 'kv', '--per-partition', '--out', out]);
    expect(r.code).toBe(1);
    const lin = resultsSchema.parse(await readJson(join(out, 'results.json'))).checkers
      .linearizability!;
    expect(lin.partitions.map((p) => [p.key, p.valid])).toEqual([
      ['1', true],
      ['"1"', false],
    ]);
    const appendKv = await check(
      'keys-append.jsonl',
      jsonl([
        [0, 0, 'invoke', 'append', 'x', 1],
        [1, 0, 'ok', 'append', 'x', 1],
        [2, 1, 'invoke', 'get', undefined, '1'],
        [3, 1, 'ok', 'get', 'x', '1'],
      ]),
      ['--model', 'append-kv'],
    );
    expect(appendKv.code).toBe(1);
  });

  it("keeps a process's ops in order when its next invoke is at the time of its completion", async () => {
    // Process 0 writes 1, then reads nil, the read invoked at the write's completion time.
    const text = jsonl([
      [0, 0, 'invoke', 'write', 1],
      [5, 0, 'ok', 'write', 1],
      [5, 0, 'invoke', 'read'],
      [6, 0, 'ok', 'read', null],
    ]);
    const r = await check('tie.jsonl', text, ['--model', 'register']);
    expect(r.stdout).toContain('NOT LINEARIZABLE');
    expect(r.code).toBe(1);
    // By another process, the read at the same instant may come first.
    const other = await check(
      'tie-other.jsonl',
      text.replace(
        /"process":0,"type":"(invoke|ok)","f":"read"/g,
        '"process":1,"type":"$1","f":"read"',
      ),
      ['--model', 'register'],
    );
    expect(other.code).toBe(0);
  });
});

describe('faultline check: nothing to check', () => {
  const REASON = 'no completed operations to check';

  it('an empty history is unknown (exit 2), saying why, in text, --json and results.json', async () => {
    const file = join(tmp, 'empty.jsonl');
    await writeFile(file, '');
    const text = await faultline(['check', file, '--model', 'register']);
    expect(text.code).toBe(2);
    expect(text.stdout).toContain(`empty.jsonl: UNKNOWN: ${REASON}`);
    const json = await faultline(['check', file, '--model', 'register', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: 'unknown', reason: REASON, ops: 0 });
    const out = join(tmp, 'empty-out');
    expect((await faultline(['check', file, '--model', 'register', '--out', out])).code).toBe(2);
    const results = resultsSchema.parse(await readJson(join(out, 'results.json')));
    expect([results.valid, results.reason]).toEqual(['unknown', REASON]);
    expect(results.checkers.linearizability!.reason).toBe(REASON);
  });

  it('so is a history of only failed and unknown ops; one ok op is enough to judge', async () => {
    const rows: (readonly unknown[])[] = [
      [0, 0, 'invoke', 'write', 1],
      [1, 0, 'fail', 'write', 1],
      [2, 1, 'invoke', 'write', 2],
      [3, 1, 'info', 'write', 2],
      [4, 2, 'invoke', 'read'],
    ];
    const file = join(tmp, 'no-ok.jsonl');
    await writeFile(file, jsonl(rows));
    const r = await faultline(['check', file, '--model', 'register', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: 'unknown', reason: REASON });
    const withOk = join(tmp, 'one-ok.jsonl');
    await writeFile(withOk, jsonl([...rows, [5, 2, 'ok', 'read', 2]]));
    const ok = await faultline(['check', withOk, '--model', 'register', '--json']);
    expect(ok.code).toBe(0);
    expect(Object.keys(JSON.parse(ok.stdout)).sort()).toEqual([
      'elapsedMs',
      'file',
      'ops',
      'partitions',
      'valid',
    ]);
  });

  it('a key with nothing completed, in a history with something, does not make it unknown', async () => {
    const file = join(tmp, 'one-key-empty.jsonl');
    await writeFile(
      file,
      jsonl([
        [0, 0, 'invoke', 'write', 1, 'a'],
        [1, 0, 'info', 'write', 1, 'a'],
        [2, 1, 'invoke', 'write', 2, 'b'],
        [3, 1, 'ok', 'write', 2, 'b'],
      ]),
    );
    const r = await faultline(['check', file, '--model', 'kv', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, partitions: 2 });
  });
});
