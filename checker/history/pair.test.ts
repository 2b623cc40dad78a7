import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from './event.js';
import { pairOperations, splitHistory } from './pair.js';

const e = (index: number, fields: Omit<HistoryEvent, 'index' | 'time'>): HistoryEvent =>
  ({ index, time: index * 100, ...fields }) as HistoryEvent;

describe('pairing', () => {
  const events = [
    e(0, { process: 0, type: 'invoke', f: 'write', value: 1 }),
    e(1, { process: 1, type: 'invoke', f: 'read', key: 'k' }),
    e(2, { process: 'nemesis', type: 'info', f: 'kill', value: ['n1'] }),
    e(3, { process: 2, type: 'invoke', f: 'cas', value: [1, 2] }),
    e(4, { process: 0, type: 'ok', f: 'write', value: 1 }),
    e(5, { process: 2, type: 'fail', f: 'cas', value: [1, 2] }),
    e(6, { process: 1, type: 'info', f: 'read', key: 'k' }),
    e(7, { process: 3, type: 'invoke', f: 'read', value: null }),
    e(8, { process: 0, type: 'invoke', f: 'read' }),
    e(9, { process: 0, type: 'ok', f: 'read', value: 1 }),
  ];

  it('pairs each invoke with its completion, in invoke order, with call and return times', () => {
    const ops = pairOperations(events);
    expect(ops.map((o) => [o.process, o.f, o.status, o.call, o.return, o.key])).toEqual([
      [0, 'write', 'ok', 0, 400, undefined],
      [1, 'read', 'info', 100, Number.POSITIVE_INFINITY, 'k'],
      [2, 'cas', 'fail', 300, 500, undefined],
      [3, 'read', 'pending', 700, Number.POSITIVE_INFINITY, undefined],
      [0, 'read', 'ok', 800, 900, undefined],
    ]);
    expect(ops[0]!.invoke).toBe(events[0]);
    expect(ops[0]!.completion).toBe(events[4]);
    expect(ops[3]!.completion).toBeUndefined();
    expect('key' in ops[0]!).toBe(false);
  });

  it('sets nemesis events aside', () => {
    const { ops, nemesis } = splitHistory(events);
    expect(nemesis).toEqual([events[2]]);
    expect(ops).toHaveLength(5);
  });

  it('sets observer events (leader changes) aside, apart from the nemesis events', () => {
    const leader = e(10, { process: 'observer', type: 'info', f: 'leader', value: 'n2' });
    const { ops, nemesis, observer } = splitHistory([...events, leader]);
    expect(observer).toEqual([leader]);
    expect(nemesis).toEqual([events[2]]);
    expect(ops).toHaveLength(5);
  });

  it('takes the key from the completion when the invoke has none', () => {
    const ops = pairOperations([
      e(0, { process: 0, type: 'invoke', f: 'read' }),
      e(1, { process: 0, type: 'ok', f: 'read', key: 7, value: 1 }),
    ]);
    expect(ops[0]!.key).toBe(7);
  });

  it('refuses a malformed history', () => {
    expect(() => pairOperations([e(0, { process: 0, type: 'ok', f: 'read' })])).toThrow(
      /without an invoke/,
    );
    expect(() =>
      pairOperations([
        e(0, { process: 0, type: 'invoke', f: 'read' }),
        e(1, { process: 0, type: 'invoke', f: 'read' }),
      ]),
    ).toThrow(/busy/);
  });
});
