import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEdnHistory } from '../history/index.js';
import { checkElle } from './check.js';
import { loadTxnHistory } from './load.js';
import { simulateStore } from './testing/store-sim.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'elle-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const write = async (name: string, text: string) => {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
};

describe('loadTxnHistory', () => {
  it('gives the same verdicts from JSONL and from Jepsen EDN', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const events = simulateStore({
        workload: 'list-append',
        isolation: seed % 2 === 0 ? 'serializable' : 'read-committed',
        seed,
        txns: 60,
      });
      const jsonl = await write(`h${seed}.jsonl`, events.map((e) => JSON.stringify(e)).join('\n'));
      const edn = await write(`h${seed}.edn`, toEdnHistory(events));
      const [a, b] = await Promise.all([
        loadTxnHistory(jsonl, 'list-append'),
        loadTxnHistory(edn, 'list-append'),
      ]);
      expect(b.txns).toEqual(a.txns);
      const ra = checkElle(a, { workload: 'list-append' });
      const rb = checkElle(b, { workload: 'list-append' });
      expect(rb.valid).toBe(ra.valid);
      expect(rb.anomalyTypes).toEqual(ra.anomalyTypes);
      if (seed % 2 === 0) expect(ra.valid).toBe(true);
      else expect(ra.valid).toBe(false);
    }
  });

  it('reads a hand-written EDN history of completions alone', async () => {
    const file = await write(
      'g1c.edn',
      `[{:type :ok, :f :txn, :process 0, :value [[:append :x 1] [:r :y [1]]]}
 {:type :ok, :f :txn, :process 1, :value [[:append :y 1] [:r :x [1]]]}]\n`,
    );
    const h = await loadTxnHistory(file, 'list-append');
    expect(h.hasInvocations).toBe(false);
    expect(h.txns[0]!.ops).toEqual([
      { f: 'append', key: 'x', value: 1 },
      { f: 'r', key: 'y', value: [1] },
    ]);
    const r = checkElle(h, { workload: 'list-append' });
    expect(r.anomalyTypes).toEqual(['G1c']);
    expect(r.realtime).toBe(false);
  });

  it('streams a JSONL history of completions alone', async () => {
    const file = await write(
      'completions.jsonl',
      [
        { index: 0, time: 0, process: 'nemesis', type: 'info', f: 'start-partition' },
        { index: 1, time: 1, process: 0, type: 'ok', f: 'txn', value: [['w', 'x', 1]] },
        { index: 2, time: 2, process: 0, type: 'ok', f: 'txn', value: [['r', 'x', 1]] },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const h = await loadTxnHistory(file, 'rw-register');
    expect(h.hasInvocations).toBe(false);
    expect(h.events).toBe(3);
    expect(h.txns.map((t) => t.completeIndex)).toEqual([1, 2]);
  });

  it('treats an op still open at the end as indeterminate', async () => {
    const file = await write(
      'open.jsonl',
      [
        { index: 0, time: 0, process: 0, type: 'invoke', f: 'txn', value: [['w', 'x', 1]] },
        { index: 1, time: 1, process: 1, type: 'invoke', f: 'txn', value: [['r', 'x', null]] },
        { index: 2, time: 2, process: 1, type: 'ok', f: 'txn', value: [['r', 'x', 1]] },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const h = await loadTxnHistory(file, 'rw-register');
    expect(h.txns.map((t) => t.status)).toEqual(['info', 'ok']);
    expect(checkElle(h, { workload: 'rw-register' }).valid).toBe(true);
  });

  it('names the file and line of a malformed transaction', async () => {
    const file = await write(
      'bad.edn',
      `[{:type :invoke, :f :txn, :process 0, :value [[:append :x 1]]}
 {:type :ok, :f :txn, :process 0, :value [[:append :x]]}]\n`,
    );
    await expect(loadTxnHistory(file, 'list-append')).rejects.toThrow(/bad\.edn:2: .*micro-ops/);
  });

  it('refuses a completion without an invocation once a history has invocations', async () => {
    const file = await write(
      'mixed.edn',
      `[{:type :invoke, :f :txn, :process 0, :value [[:append :x 1]]}
 {:type :ok, :f :txn, :process 0, :value [[:append :x 1]]}
 {:type :ok, :f :txn, :process 1, :value [[:append :x 2]]}]\n`,
    );
    await expect(loadTxnHistory(file, 'list-append')).rejects.toThrow(
      /mixed\.edn:3: .*without an invoke/,
    );
  });

  it('says when the file is missing', async () => {
    await expect(loadTxnHistory(join(dir, 'nope.jsonl'), 'list-append')).rejects.toThrow(
      /no such file/,
    );
  });
});
