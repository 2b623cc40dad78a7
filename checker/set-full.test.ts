import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConvergence } from './convergence.js';
import { loadHistory } from './history/load.js';
import { pairOperations } from './history/pair.js';
import { HistoryShapeError } from './replica-reads.js';
import { checkSetFull } from './set-full.js';
import { HistoryBuilder } from './testing/replicated-history.js';

const add = (process: number, value: number, at: number, end: number, key = 's') => ({
  process,
  f: 'add',
  key,
  value,
  at,
  end,
});
const read = (process: number, result: unknown[], at: number, end: number, key = 's') => ({
  process,
  f: 'read',
  key,
  at,
  end,
  result,
});
const els = (...elements: unknown[]) => ({ s: { elements } });

describe('checkSetFull', () => {
  it('passes a healthy run and measures when each element became stably visible', () => {
    const h = new HistoryBuilder()
      .op(add(0, 1, 0, 10))
      .op(add(1, 2, 5, 15))
      .op(read(2, [1], 20, 25))
      .op(read(2, [1, 2], 40, 45))
      .nemesis('heal-all-stop', 100)
      .round(0, 200, 210, { n1: els(1, 2), n2: els(2, 1) })
      .build();
    const r = checkSetFull(h);
    expect(r.valid).toBe(true);
    expect(r.summary).toEqual([]);
    const [k] = r.keys;
    expect(k).toMatchObject({ key: 's', attempted: 2, acknowledged: 2, finalReads: 2, stable: 2 });
    // element 1: add invoked at 0, stable from the read at 20; element 2: at 5, from 40.
    expect(r.stableLatencyMs).toEqual({ count: 2, p50: 20, p95: 35, p99: 35, max: 35 });
  });

  it('reports a lost add, an unexpected element and a failed add that was read', () => {
    const h = new HistoryBuilder()
      .op(add(0, 1, 0, 10))
      .op(add(0, 2, 20, 30))
      .op({ ...add(0, 3, 40, 50), status: 'fail' })
      .round(0, 200, 210, { n1: els(1, 3, 77), n2: els(1, 3, 77) })
      .build();
    const r = checkSetFull(h);
    expect(r.valid).toBe(false);
    expect(r.lost).toEqual([{ key: 's', element: 2, index: 2, process: 0 }]);
    expect(r.unexpected.map((u) => u.element)).toEqual([77]);
    expect(r.failedButPresent.map((u) => u.element)).toEqual([3]);
    expect(r.summary).toEqual([
      '1 acknowledged add lost on key s: 2',
      '1 unexpected element read on key s (never added): 77',
      '1 element read on key s though every add of it failed: 3',
    ]);
  });

  it('counts indeterminate adds that appeared as recovered, and does not call them lost', () => {
    const h = new HistoryBuilder()
      .op({ ...add(0, 1, 0, 10), status: 'info' })
      .op({ ...add(1, 2, 0, 10), status: 'pending' })
      .round(0, 200, 210, { n1: els(1), n2: els(1) })
      .build();
    const r = checkSetFull(h);
    expect(r.valid).toBe(true);
    expect(r.recovered.map((x) => x.element)).toEqual([1]);
    expect(r.lostCount).toBe(0);
  });

  it('does not call a removed element lost', () => {
    const h = new HistoryBuilder()
      .op(add(0, 1, 0, 10))
      .op({ process: 1, f: 'remove', key: 's', value: 1, at: 5, end: 20 })
      .round(0, 200, 210, { n1: els(), n2: els() })
      .build();
    expect(checkSetFull(h).valid).toBe(true);
  });

  it('does excuse no add with a remove that completed before the add was invoked', () => {
    const h = new HistoryBuilder()
      .op({ process: 1, f: 'remove', key: 's', value: 1, at: 0, end: 5 })
      .op(add(0, 1, 10, 20))
      .round(0, 200, 210, { n1: els(), n2: els() })
      .build();
    expect(checkSetFull(h).lostCount).toBe(1);
  });

  it('reports stale reads; they invalidate only a linearizable set', () => {
    const h = new HistoryBuilder()
      .op(add(0, 1, 0, 10))
      .op(read(1, [], 5, 12)) // began before the add completed: not stale
      .op(read(1, [], 20, 25)) // stale: the add completed at 10, seen again at 40
      .op(read(1, [1], 40, 45))
      .round(0, 200, 210, { n1: els(1) })
      .build();
    const eventual = checkSetFull(h);
    expect(eventual.valid).toBe(true);
    expect(eventual.staleReadCount).toBe(1);
    expect(eventual.staleReads[0]).toMatchObject({
      element: 1,
      index: 4,
      readAtMs: 20,
      addCompletedAtMs: 10,
    });
    const linear = checkSetFull(h, { linearizable: true });
    expect(linear.valid).toBe(false);
    expect(linear.summary[0]).toMatch(/^1 stale read on key s/);
  });

  it('uses the last reads after the heal when there are no replica reads (Jepsen style)', () => {
    const h = new HistoryBuilder()
      .op(add(0, 1, 0, 10))
      .op(add(1, 2, 0, 10))
      .op(read(0, [1, 2], 20, 30))
      .nemesis('heal-all-stop', 50)
      .op(read(0, [1], 60, 70))
      .op(read(1, [1], 60, 70))
      .build();
    const r = checkSetFull(h);
    expect(r.source).toBe('final-read');
    expect(r.valid).toBe(false);
    expect(r.lost.map((l) => l.element)).toEqual([2]);
  });

  it('is unknown for a key no final read covers, and with a replica missing', () => {
    const noFinal = new HistoryBuilder()
      .op(add(0, 1, 0, 10))
      .op(read(0, [], 20, 30, 'other'))
      .nemesis('heal-all-stop', 50)
      .op(read(0, [], 60, 70, 'other'))
      .build();
    const a = checkSetFull(noFinal);
    expect(a.valid).toBe('unknown');
    expect(a.summary.join(' ')).toMatch(/no final read of key s/);

    const missing = new HistoryBuilder()
      .op(add(0, 1, 0, 10))
      .round(0, 200, 210, { n1: els(), n2: null })
      .build();
    const b = checkSetFull(missing);
    expect(b.valid).toBe('unknown');
    expect(b.possiblyLost.map((p) => p.element)).toEqual([1]);
    expect(b.lostCount).toBe(0);
  });

  it('names the op and field of a read that is not an array', () => {
    const h = new HistoryBuilder().op(add(0, 1, 0, 10)).op({ ...read(0, [], 20, 30), result: 5 });
    expect(() => checkSetFull(h.build())).toThrow(HistoryShapeError);
    expect(() => checkSetFull(h.build())).toThrow(
      /^read at history index 3: field "value": expected an array/,
    );
  });
});

describe('checkSetFull on a Jepsen history.edn', () => {
  it('judges the final reads after the nemesis stops, as it judges the JSONL form', async () => {
    const edn = [
      '{:type :invoke, :f :add, :value 1, :process 0, :time 10}',
      '{:type :ok, :f :add, :value 1, :process 0, :time 20}',
      '{:type :invoke, :f :add, :value 2, :process 1, :time 10}',
      '{:type :info, :f :add, :value 2, :process 1, :time 20}',
      '{:type :invoke, :f :add, :value 3, :process 2, :time 30}',
      '{:type :ok, :f :add, :value 3, :process 2, :time 35}',
      '{:type :info, :f :stop, :value nil, :process :nemesis, :time 40}',
      '{:type :invoke, :f :read, :value nil, :process 0, :time 50}',
      '{:type :ok, :f :read, :value #{1 2}, :process 0, :time 60}',
      '{:type :invoke, :f :read, :value nil, :process 2, :time 50}',
      '{:type :ok, :f :read, :value #{2 1}, :process 2, :time 60}',
    ].join('\n');
    const dir = await mkdtemp(join(tmpdir(), 'set-full-edn-'));
    try {
      await writeFile(join(dir, 'history.edn'), edn);
      const { events } = await loadHistory(join(dir, 'history.edn'));
      const input = { events, ops: pairOperations(events) };
      const r = checkSetFull(input);
      expect(r.source).toBe('final-read');
      expect(r.lost.map((l) => l.element)).toEqual([3]);
      expect(r.recovered.map((l) => l.element)).toEqual([2]);
      expect(r.summary).toEqual(['1 acknowledged add lost on the unkeyed history: 3']);
      const c = checkConvergence(input, { type: 'set' });
      expect(c.lost.map((l) => l.value)).toEqual([3]);
      expect(c.divergentKeyCount).toBe(0);

      const jsonl = new HistoryBuilder()
        .op({ process: 0, f: 'add', value: 1, at: 10, end: 20 })
        .op({ process: 1, f: 'add', value: 2, at: 10, end: 20, status: 'info' })
        .op({ process: 2, f: 'add', value: 3, at: 30, end: 35 })
        .nemesis('stop', 40)
        .op({ process: 0, f: 'read', at: 50, end: 60, result: [1, 2] })
        .op({ process: 2, f: 'read', at: 50, end: 60, result: [2, 1] })
        .build();
      const j = checkSetFull(jsonl);
      expect([j.valid, j.lostCount, j.recoveredCount]).toEqual([
        r.valid,
        r.lostCount,
        r.recoveredCount,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
