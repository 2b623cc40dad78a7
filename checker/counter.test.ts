import { describe, expect, it } from 'vitest';
import { checkCounter } from './counter.js';
import { HistoryShapeError } from './replica-reads.js';
import { HistoryBuilder } from './testing/replicated-history.js';

const add = (process: number, value: number, at: number, end: number, key = 'c') => ({
  process,
  f: 'add',
  key,
  value,
  at,
  end,
});
const read = (process: number, result: number, at: number, end: number, key = 'c') => ({
  process,
  f: 'read',
  key,
  at,
  end,
  result,
});

describe('checkCounter', () => {
  it('passes final values within [acknowledged, acknowledged + indeterminate]', () => {
    const h = new HistoryBuilder()
      .op(add(0, 5, 0, 10))
      .op({ ...add(1, 3, 0, 10), status: 'info' })
      .op({ ...add(2, -2, 0, 10), status: 'pending' })
      .op({ ...add(3, 50, 0, 10), status: 'fail' })
      .round(0, 100, 110, { n1: { c: { value: 8 } }, n2: { c: { value: 8 } } })
      .build();
    const r = checkCounter(h);
    expect(r.valid).toBe(true);
    expect(r.keys[0]).toMatchObject({
      key: 'c',
      acknowledged: 5,
      lower: 3,
      upper: 8,
      adds: { ok: 1, indeterminate: 2, fail: 1 },
      agree: true,
    });
  });

  it('reports a final value out of bounds, and replicas that disagree', () => {
    const h = new HistoryBuilder()
      .op(add(0, 5, 0, 10))
      .op(add(0, 1, 20, 30))
      .round(0, 100, 110, { n1: { c: { value: 6 } }, n2: { c: { value: 5 } } })
      .build();
    const r = checkCounter(h);
    expect(r.valid).toBe(false);
    expect(r.keys[0]!.final).toEqual([
      { replica: 'n1', value: 6, inBounds: true },
      { replica: 'n2', value: 5, inBounds: false },
    ]);
    expect(r.summary).toEqual([
      'key c: n2 holds 5, outside [6, 6] (acknowledged 6, indeterminate +0/0)',
      'replicas disagree on key c: n1 holds 6 and n2 holds 5',
    ]);
  });

  it('treats a key missing on a replica as 0', () => {
    const h = new HistoryBuilder()
      .op(add(0, 2, 0, 10))
      .round(0, 100, 110, { n1: { c: { value: 2 } }, n2: {} })
      .build();
    const r = checkCounter(h);
    expect(r.valid).toBe(false);
    expect(r.keys[0]!.final.map((f) => f.value)).toEqual([2, 0]);
  });

  it('judges reads against the bounds known at their time', () => {
    const h = new HistoryBuilder()
      .op(add(0, 5, 0, 10))
      .op(read(1, 0, 20, 30)) // stale: the +5 was acknowledged before the read began
      .op({ ...add(0, 2, 40, 60), status: 'info' })
      .op(read(1, 7, 50, 55)) // fine: the +2 may have happened
      .op(read(1, 9, 70, 80)) // impossible: at most 5 + 2
      .round(0, 100, 110, { n1: { c: { value: 7 } } })
      .build();
    const eventual = checkCounter(h);
    expect(eventual.outOfBoundsReadCount).toBe(2);
    expect(eventual.impossibleReadCount).toBe(1);
    expect(eventual.outOfBoundsReads.map((v) => [v.value, v.lower, v.upper, v.impossible])).toEqual(
      [
        [0, 5, 5, false],
        [9, 5, 7, true],
      ],
    );
    expect(eventual.valid).toBe(false);
    expect(eventual.summary).toEqual([
      '1 read on key c returned a value no replica could hold (first: the read at index 8 by process 1 returned 9, bounds [5, 7])',
    ]);
    const linear = checkCounter(h, { linearizable: true });
    expect(linear.summary[1]).toMatch(/^1 read on key c outside the bounds known at the time/);
  });

  it('lets a stale read pass an eventual counter', () => {
    const h = new HistoryBuilder()
      .op(add(0, 5, 0, 10))
      .op(read(1, 0, 20, 30))
      .round(0, 100, 110, { n1: { c: { value: 5 } } })
      .build();
    expect(checkCounter(h).valid).toBe(true);
    expect(checkCounter(h, { linearizable: true }).valid).toBe(false);
  });

  it('is unknown without final reads', () => {
    const h = new HistoryBuilder().op(add(0, 5, 0, 10)).build();
    expect(checkCounter(h).valid).toBe('unknown');
  });

  it('names an add whose delta is not an integer, and a bad replica state', () => {
    const h = new HistoryBuilder()
      .op({ ...add(0, 0, 0, 10), value: 'x' })
      .round(0, 100, 110, { n1: { c: { value: 5 } } })
      .build();
    expect(() => checkCounter(h)).toThrow(
      /^add at history index 0: field "value": expected an integer/,
    );
    const bad = new HistoryBuilder().round(0, 100, 110, { n1: { c: { count: 5 } } }).build();
    expect(() => checkCounter(bad)).toThrow(HistoryShapeError);
    expect(() => checkCounter(bad)).toThrow(/field "value\.keys\.c\.value"/);
  });
});
