import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import { runElleCheck } from './elle-check.js';

let dir: string;
let g1c: string;
let valid: string;
let dup: string;
let session: string;
let realtime: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'elle-cli-'));
  g1c = join(dir, 'g1c.edn');
  await writeFile(
    g1c,
    `[{:type :ok, :f :txn, :process 0, :value [[:append :x 1] [:r :y [1]]]}
 {:type :ok, :f :txn, :process 1, :value [[:append :y 1] [:r :x [1]]]}]\n`,
  );
  valid = join(dir, 'valid.jsonl');
  await writeFile(
    valid,
    [
      { index: 0, time: 0, process: 0, type: 'invoke', f: 'txn', value: [['w', 'x', 1]] },
      { index: 1, time: 5, process: 0, type: 'ok', f: 'txn', value: [['w', 'x', 1]] },
      { index: 2, time: 6, process: 1, type: 'invoke', f: 'txn', value: [['r', 'x', null]] },
      { index: 3, time: 9, process: 1, type: 'ok', f: 'txn', value: [['r', 'x', 1]] },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n'),
  );
  dup = join(dir, 'dup.edn');
  await writeFile(
    dup,
    `[{:type :ok, :f :txn, :process 0, :value [[:append :x 1]]}
 {:type :ok, :f :txn, :process 1, :value [[:append :x 1]]}]\n`,
  );
  // Process 0 wrote 1 and then read nil: not sequential, though serializable.
  session = join(dir, 'session.jsonl');
  await writeFile(
    session,
    [
      { index: 0, time: 0, process: 0, type: 'ok', f: 'txn', value: [['w', 'x', 1]] },
      { index: 1, time: 1, process: 0, type: 'ok', f: 'txn', value: [['r', 'x', null]] },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n'),
  );
  // One after another: T0 wrote 1, T1 wrote 2, then T2 read 1. Not linearizable per key.
  realtime = join(dir, 'realtime.jsonl');
  const txns = [[['w', 'x', 1]], [['w', 'x', 2]], [['r', 'x', 1]]];
  await writeFile(
    realtime,
    txns
      .flatMap((value, i) => [
        {
          index: 2 * i,
          time: 2 * i,
          process: i,
          type: 'invoke',
          f: 'txn',
          value: value.map(([f, k, v]) => [f, k, f === 'r' ? null : v]),
        },
        { index: 2 * i + 1, time: 2 * i + 1, process: i, type: 'ok', f: 'txn', value },
      ])
      .map((e) => JSON.stringify(e))
      .join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function buffers() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l) };
  return { io, out, err };
}

// As commander hands the flags over.
const flags = (more: Record<string, unknown>) => ({ format: 'auto', partition: true, ...more });

describe('faultline check --model list-append|rw-register', () => {
  it('prints one JSON object per file and exits 1 when one is invalid', async () => {
    const b = buffers();
    const code = await runElleCheck([g1c, dup], flags({ model: 'list-append', json: true }), b.io);
    expect(b.err).toEqual([]);
    expect(code).toBe(EXIT.invalid);
    const [first, second] = b.out.map((l) => JSON.parse(l));
    expect(first).toEqual({
      file: g1c,
      valid: false,
      anomalies: ['G1c'],
      ops: 2,
      elapsedMs: expect.any(Number),
    });
    // Appends that are not unique: unknown, and why.
    expect(second).toMatchObject({
      valid: 'unknown',
      reason: expect.stringMatching(/duplicate-appends/),
    });
  });

  it('exits 0 for a valid history, and says why in words', async () => {
    const b = buffers();
    expect(await runElleCheck([valid], flags({ model: 'rw-register' }), b.io)).toBe(EXIT.valid);
    expect(b.out[0]).toMatch(/valid \(rw-register, 2 txns, checked for strict-serializable/);
    const bad = buffers();
    await runElleCheck([g1c], flags({ model: 'list-append' }), bad.io);
    expect(bad.out.join('\n')).toMatch(/G1c \(1\): T0 < T1 \(wr\) because/);
    expect(bad.out.join('\n')).toMatch(/not read-committed/);
  });

  it('exits 2 when the verdict is unknown', async () => {
    const b = buffers();
    expect(await runElleCheck([dup], flags({ model: 'list-append', json: true }), b.io)).toBe(
      EXIT.unknown,
    );
  });

  it('takes the models and anomalies to check', async () => {
    const b = buffers();
    const code = await runElleCheck(
      [g1c],
      flags({ model: 'list-append', anomalies: 'G2-item, G-single', json: true }),
      b.io,
    );
    expect(code).toBe(EXIT.valid);
    const ru = buffers();
    await runElleCheck(
      [g1c],
      flags({ model: 'list-append', consistencyModels: 'read-uncommitted', json: true }),
      ru.io,
    );
    expect(JSON.parse(ru.out[0]!).valid).toBe(true);
  });

  it('assumes per-key order by process with --sequential-keys', async () => {
    const plain = buffers();
    expect(
      await runElleCheck([session], flags({ model: 'rw-register', json: true }), plain.io),
    ).toBe(EXIT.valid);
    const seq = buffers();
    const code = await runElleCheck(
      [session],
      flags({ model: 'rw-register', sequentialKeys: true, json: true }),
      seq.io,
    );
    expect(code).toBe(EXIT.invalid);
    expect(JSON.parse(seq.out[0]!)).toMatchObject({ valid: false, anomalies: ['cyclic-versions'] });
  });

  it('assumes per-key order by real time with --linearizable-keys', async () => {
    const plain = buffers();
    expect(
      await runElleCheck([realtime], flags({ model: 'rw-register', json: true }), plain.io),
    ).toBe(EXIT.valid);
    const lin = buffers();
    const code = await runElleCheck(
      [realtime],
      flags({ model: 'rw-register', linearizableKeys: true }),
      lin.io,
    );
    expect(code).toBe(EXIT.invalid);
    expect(lin.out.join('\n')).toMatch(/cyclic-versions \(1\): .*versions of key "x" form a cycle/);
    // Process order alone does not order these: each txn has its own process.
    const seq = buffers();
    expect(
      await runElleCheck([realtime], flags({ model: 'rw-register', sequentialKeys: true }), seq.io),
    ).toBe(EXIT.valid);
  });

  it('writes a page per history with --out', async () => {
    const out = join(dir, 'out');
    const b = buffers();
    await runElleCheck([g1c], flags({ model: 'list-append', out, json: true }), b.io);
    expect(b.out).toHaveLength(1);
    const page = await readFile(join(out, 'g1c-elle.html'), 'utf8');
    expect(page).toContain('<h2>G1c <small>(1 found)</small></h2>');
    expect(page).toContain('<svg');
  });

  it('refuses bad flags and unreadable files as bad input', async () => {
    await expect(
      runElleCheck([g1c], flags({ model: 'list-append', consistencyModels: 'acid' }), buffers().io),
    ).rejects.toThrow(/--consistency-models "acid": unknown model/);
    await expect(
      runElleCheck([g1c], flags({ model: 'list-append', anomalies: 'G7' }), buffers().io),
    ).rejects.toThrow(/--anomalies "G7": unknown anomaly/);
    await expect(
      runElleCheck([g1c], flags({ model: 'list-append', initial: '0' }), buffers().io),
    ).rejects.toThrow(/--initial does not apply/);
    await expect(
      runElleCheck([g1c], flags({ model: 'list-append', sequentialKeys: true }), buffers().io),
    ).rejects.toThrow(/--sequential-keys applies to --model rw-register only/);
    await expect(
      runElleCheck([g1c], flags({ model: 'list-append', linearizableKeys: true }), buffers().io),
    ).rejects.toThrow(/--linearizable-keys applies to --model rw-register only/);
    const b = buffers();
    expect(await runElleCheck([join(dir, 'none.edn')], flags({ model: 'list-append' }), b.io)).toBe(
      EXIT.usage,
    );
    expect(b.err[0]).toMatch(/no such file/);
  });
});
