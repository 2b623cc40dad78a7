import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history/index.js';
import { checkElle, type ElleOptions } from './check.js';
import {
  completions,
  concurrent,
  fail,
  info,
  ok,
  type RawTxn,
  sequential,
  txnHistory,
} from './testing/histories.js';

const options: ElleOptions = { workload: 'list-append', consistencyModels: ['serializable'] };
const check = (txns: RawTxn[], more: Partial<ElleOptions> = {}) =>
  checkElle(txnHistory(completions(txns), 'list-append'), { ...options, ...more });

describe('list-append: valid histories', () => {
  it('passes a serial history with growing reads', () => {
    const txns = [
      ok(0, ['append', 'x', 1], ['r', 'x', [1]]),
      ok(1, ['r', 'x', [1]], ['append', 'x', 2], ['append', 'y', 1]),
      ok(2, ['r', 'x', [1, 2]], ['r', 'y', [1]]),
    ];
    const r = check(txns);
    expect(r.valid).toBe(true);
    expect(r.anomalyTypes).toEqual([]);
    expect(r.not).toEqual([]);
    const strict = checkElle(txnHistory(sequential(txns), 'list-append'), {
      workload: 'list-append',
    });
    expect(strict.consistencyModels).toEqual(['strict-serializable']);
    expect(strict.valid).toBe(true);
    expect(strict.realtime).toBe(true);
  });

  it('does not count a failed or indeterminate txn as read', () => {
    const r = check([
      info(0, ['append', 'x', 1]),
      fail(1, ['append', 'x', 2]),
      ok(2, ['r', 'x', [1]]),
      info(3, ['r', 'x', null]),
    ]);
    expect(r.valid).toBe(true);
  });
});

describe('list-append: one history per anomaly', () => {
  const cases: [string, RawTxn[]][] = [
    [
      'G0',
      [
        ok(0, ['append', 'x', 1], ['append', 'y', 2]),
        ok(1, ['append', 'x', 2], ['append', 'y', 1]),
        ok(2, ['r', 'x', [1, 2]], ['r', 'y', [1, 2]]),
      ],
    ],
    [
      'G1c',
      [ok(0, ['append', 'x', 1], ['r', 'y', [1]]), ok(1, ['append', 'y', 1], ['r', 'x', [1]])],
    ],
    [
      'G-single',
      [ok(0, ['append', 'x', 1], ['append', 'y', 1]), ok(1, ['r', 'x', []], ['r', 'y', [1]])],
    ],
    [
      'G2-item',
      [ok(0, ['append', 'x', 1], ['r', 'y', []]), ok(1, ['append', 'y', 1], ['r', 'x', []])],
    ],
    [
      'G-nonadjacent',
      // T0 →rw T1 →ww T2 →rw T3 →ww T0: no two rw edges in a row.
      [
        ok(0, ['r', 'x', []], ['append', 'w', 2]),
        ok(1, ['append', 'x', 1], ['append', 'y', 1]),
        ok(2, ['append', 'y', 2], ['r', 'z', []]),
        ok(3, ['append', 'z', 1], ['append', 'w', 1]),
        ok(4, ['r', 'y', [1, 2]], ['r', 'w', [1, 2]]),
      ],
    ],
    ['G1a', [fail(0, ['append', 'x', 1]), ok(1, ['r', 'x', [1]])]],
    ['G1b', [ok(0, ['append', 'x', 1], ['append', 'x', 2]), ok(1, ['r', 'x', [1]])]],
    ['internal', [ok(0, ['append', 'x', 1], ['r', 'x', []])]],
    ['duplicate-elements', [ok(0, ['append', 'x', 1]), ok(1, ['r', 'x', [1, 1]])]],
    [
      'incompatible-order',
      [
        ok(0, ['append', 'x', 1]),
        ok(1, ['append', 'x', 2]),
        ok(2, ['r', 'x', [1, 2]]),
        ok(3, ['r', 'x', [2, 1]]),
      ],
    ],
    [
      'lost-update',
      [
        ok(0, ['r', 'x', []], ['append', 'x', 1]),
        ok(1, ['r', 'x', []], ['append', 'x', 2]),
        ok(2, ['r', 'x', [1, 2]]),
      ],
    ],
    [
      'dirty-update',
      [fail(0, ['append', 'x', 1]), ok(1, ['append', 'x', 2]), ok(2, ['r', 'x', [1, 2]])],
    ],
    ['future-read', [ok(0, ['r', 'x', [1]], ['append', 'x', 1])]],
  ];
  for (const [anomaly, txns] of cases) {
    it(`finds ${anomaly}`, () => {
      const r = check(txns);
      expect(r.valid).toBe(false);
      expect(r.anomalyTypes).toContain(anomaly);
      expect(r.anomalies[anomaly]![0]!.text.length).toBeGreaterThan(0);
    });
  }

  it('reports G0 without the weaker classes it implies, and explains each edge', () => {
    const r = check(cases[0]![1]);
    expect(r.anomalyTypes).toEqual(['G0']);
    const cycle = r.anomalies.G0![0]!;
    expect(cycle.steps!.map((s) => s.kind)).toEqual(['ww', 'ww']);
    expect(cycle.steps![0]!.because).toMatch(/appended .* right after/);
    expect(cycle.text).toMatch(/however .*: a contradiction$/);
    expect(r.not).toEqual(['read-uncommitted']);
  });

  it('gives G-single exactly one rw edge and G2-item two', () => {
    const single = check(cases[2]![1]).anomalies['G-single']![0]!;
    expect(single.steps!.map((s) => s.kind).sort()).toEqual(['rw', 'wr']);
    const item = check(cases[3]![1]).anomalies['G2-item']![0]!;
    expect(item.steps!.map((s) => s.kind)).toEqual(['rw', 'rw']);
    expect(item.steps![0]!.because).toMatch(/misses T1's append of 1/);
  });

  it('rules out the models the anomalies forbid', () => {
    const r = check(cases[2]![1]);
    // Its rw edge is an item anti-dependency: a G2-item in Adya's terms, so not PL-2.99 either.
    expect(r.not).toEqual(['consistent-view', 'repeatable-read']);
    expect(r.alsoNot).toEqual(
      expect.arrayContaining(['snapshot-isolation', 'serializable', 'strict-serializable']),
    );
    expect(check(cases[3]![1]).not).toEqual(['repeatable-read']);
  });

  it('orders an append no read shows after the longest read', () => {
    // T0 saw T1's append to x, but its read of z (the longest) misses T1's append to z.
    const r = check([
      ok(0, ['r', 'x', [1]], ['r', 'z', [2]]),
      ok(1, ['append', 'x', 1], ['append', 'z', 3]),
      ok(2, ['append', 'z', 2]),
    ]);
    expect(r.anomalyTypes).toEqual(['G-single']);
    expect(r.anomalies['G-single']![0]!.text).toMatch(/no read shows it/);
  });
});

describe('list-append: session and real-time variants', () => {
  it('finds G-single-process across two txns of one process', () => {
    const txns = [ok(0, ['append', 'x', 1]), ok(0, ['r', 'x', []])];
    const r = check(txns, { consistencyModels: ['strong-session-serializable'] });
    expect(r.anomalyTypes).toEqual(['G-single-process']);
    expect(r.anomalies['G-single-process']![0]!.steps!.map((s) => s.kind)).toEqual([
      'process',
      'rw',
    ]);
    expect(check(txns).valid).toBe(true);
  });

  it('finds G-single-realtime only when one txn ended before the other began', () => {
    const txns = [ok(0, ['append', 'x', 1]), ok(1, ['r', 'x', []])];
    const strict = { consistencyModels: ['strict-serializable'] };
    const serial = checkElle(txnHistory(sequential(txns), 'list-append'), {
      ...options,
      ...strict,
    });
    expect(serial.anomalyTypes).toEqual(['G-single-realtime']);
    expect(serial.anomalies['G-single-realtime']![0]!.steps![0]!.because).toMatch(
      /completed \(event 1\) before T1 was invoked \(event 2\)/,
    );
    expect(serial.not).toEqual(['strict-serializable']);
    const overlapping = checkElle(txnHistory(concurrent(txns), 'list-append'), {
      ...options,
      ...strict,
    });
    expect(overlapping.valid).toBe(true);
  });

  it('reports cycles, never closed walks that pass a txn twice', () => {
    // T1 sees T0's y but not its x; T2, after both in real time, misses T0's x too.
    const rows: [number, HistoryEvent['type'], unknown][] = [
      [
        0,
        'invoke',
        [
          ['append', 'x', 1],
          ['append', 'y', 1],
        ],
      ],
      [
        1,
        'invoke',
        [
          ['r', 'x', null],
          ['r', 'y', null],
        ],
      ],
      [
        0,
        'ok',
        [
          ['append', 'x', 1],
          ['append', 'y', 1],
        ],
      ],
      [
        1,
        'ok',
        [
          ['r', 'x', []],
          ['r', 'y', [1]],
        ],
      ],
      [0, 'invoke', [['r', 'x', null]]],
      [0, 'ok', [['r', 'x', []]]],
    ];
    const events: HistoryEvent[] = rows.map(([process, type, value], index) => ({
      index,
      time: index,
      process,
      type,
      f: 'txn',
      value,
    }));
    const r = checkElle(txnHistory(events, 'list-append'), { workload: 'list-append' });
    expect(r.anomalyTypes).toEqual(['G-single', 'G-single-process', 'G-single-realtime']);
    for (const list of Object.values(r.anomalies)) {
      for (const a of list) {
        const ids = a.txns.map((t) => t.id);
        expect(new Set(ids).size).toBe(ids.length);
      }
    }
  });

  it('says unknown for a real-time model without invocations', () => {
    const r = check([ok(0, ['append', 'x', 1])], { consistencyModels: ['strict-serializable'] });
    expect(r.valid).toBe('unknown');
    expect(r.realtime).toBe(false);
    expect(r.unknown.join()).toMatch(/no invocations/);
    const byDefault = checkElle(
      txnHistory(completions([ok(0, ['append', 'x', 1])]), 'list-append'),
      {
        workload: 'list-append',
      },
    );
    expect(byDefault.consistencyModels).toEqual(['serializable']);
    expect(byDefault.valid).toBe(true);
    expect(byDefault.notes.join()).toMatch(/realtime edges cannot be inferred/);
  });
});

describe('list-append: what is checked', () => {
  it('checks only the anomalies asked for (and those that imply them)', () => {
    const skew = [
      ok(0, ['append', 'x', 1], ['r', 'y', []]),
      ok(1, ['append', 'y', 1], ['r', 'x', []]),
    ];
    expect(check(skew, { anomalies: ['G1'] }).valid).toBe(true);
    expect(check(skew, { anomalies: ['G2'] }).anomalyTypes).toEqual(['G2-item']);
    expect(check(skew, { consistencyModels: ['snapshot-isolation'] }).valid).toBe(true);
    const g0 = check(
      [
        ok(0, ['append', 'x', 1], ['append', 'y', 2]),
        ok(1, ['append', 'x', 2], ['append', 'y', 1]),
        ok(2, ['r', 'x', [1, 2]], ['r', 'y', [1, 2]]),
      ],
      { anomalies: ['G1c'] },
    );
    expect(g0.anomalyTypes).toEqual(['G0']);
  });

  it('refuses unknown models and anomalies', () => {
    expect(() => check([], { consistencyModels: ['linearizable-ish'] })).toThrow(
      /unknown consistency model/,
    );
    expect(() => check([], { anomalies: ['G9'] })).toThrow(/unknown anomaly "G9"/);
    expect(
      check([ok(0, ['append', 'x', 1])], { consistencyModels: ['PL-3'] }).consistencyModels,
    ).toEqual(['serializable']);
  });

  it('is unknown with duplicate appends or micro-ops of another workload', () => {
    const dup = check([ok(0, ['append', 'x', 1]), ok(1, ['append', 'x', 1])]);
    expect(dup.valid).toBe('unknown');
    expect(dup.unknown.join()).toMatch(/duplicate-appends/);
    const other = check([ok(0, ['w', 'x', 1])]);
    expect(other.valid).toBe('unknown');
    expect(other.unknown.join()).toMatch(/unexpected-txn-micro-op-types: w/);
  });

  it('is unknown when no txn completed ok', () => {
    expect(check([fail(0, ['append', 'x', 1])]).valid).toBe('unknown');
  });

  it('is unknown when the cycle search runs out of budget', () => {
    const r = check(
      [ok(0, ['append', 'x', 1], ['r', 'y', []]), ok(1, ['append', 'y', 1], ['r', 'x', []])],
      { searchBudget: 0 },
    );
    expect(r.valid).toBe('unknown');
    expect(r.unknown.join()).toMatch(/cycle-search-timeout: .*G2-item/);
  });
});
