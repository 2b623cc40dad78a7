import { describe, expect, it } from 'vitest';
import { checkElle, type ElleOptions } from './check.js';
import {
  completions,
  concurrent,
  fail,
  ok,
  type RawTxn,
  sequential,
  txnHistory,
} from './testing/histories.js';

const options: ElleOptions = { workload: 'rw-register', consistencyModels: ['serializable'] };
const check = (txns: RawTxn[], more: Partial<ElleOptions> = {}) =>
  checkElle(txnHistory(completions(txns), 'rw-register'), { ...options, ...more });

describe('rw-register', () => {
  it('passes a serial history', () => {
    const r = check([
      ok(0, ['r', 'x', null], ['w', 'x', 1]),
      ok(1, ['r', 'x', 1], ['w', 'x', 2], ['w', 'y', 1]),
      ok(2, ['r', 'x', 2], ['r', 'y', 1]),
    ]);
    expect(r.valid).toBe(true);
  });

  const cases: [string, RawTxn[]][] = [
    ['G1c', [ok(0, ['w', 'x', 1], ['r', 'y', 1]), ok(1, ['w', 'y', 1], ['r', 'x', 1])]],
    ['G-single', [ok(0, ['w', 'x', 1], ['w', 'y', 1]), ok(1, ['r', 'x', null], ['r', 'y', 1])]],
    ['G2-item', [ok(0, ['r', 'x', null], ['w', 'y', 1]), ok(1, ['r', 'y', null], ['w', 'x', 1])]],
    ['G1a', [fail(0, ['w', 'x', 1]), ok(1, ['r', 'x', 1])]],
    ['G1b', [ok(0, ['w', 'x', 1], ['w', 'x', 2]), ok(1, ['r', 'x', 1])]],
    ['internal', [ok(0, ['w', 'x', 1], ['r', 'x', 2]), ok(1, ['w', 'x', 2])]],
    ['future-read', [ok(0, ['r', 'x', 1], ['w', 'x', 1])]],
    [
      'lost-update',
      [ok(0, ['r', 'x', null], ['w', 'x', 1]), ok(1, ['r', 'x', null], ['w', 'x', 2])],
    ],
    ['cyclic-versions', [ok(0, ['r', 'x', 1], ['w', 'x', 2]), ok(1, ['r', 'x', 2], ['w', 'x', 1])]],
  ];
  for (const [anomaly, txns] of cases) {
    it(`finds ${anomaly}`, () => {
      const r = check(txns);
      expect(r.valid).toBe(false);
      expect(r.anomalyTypes).toContain(anomaly);
    });
  }

  it('explains rw edges by the version order it assumed', () => {
    const r = check(cases[1]![1]);
    expect(r.anomalyTypes).toEqual(['G-single']);
    const becauses = r.anomalies['G-single']![0]!.steps!.map((s) => s.because);
    expect(becauses).toEqual(
      expect.arrayContaining([
        'T1 read key "x" as nil, the initial version, and T0 wrote 1, a later one',
        'T1 read key "y" as 1, which T0 wrote',
      ]),
    );
  });

  it('orders versions by writes following reads, unless told not to', () => {
    // T1 read 1 and wrote 2, so 1 < 2: T2, which read 1, missed T1's write; yet it read T1's y.
    const txns = [
      ok(0, ['w', 'x', 1]),
      ok(1, ['r', 'x', 1], ['w', 'x', 2], ['w', 'y', 1]),
      ok(2, ['r', 'x', 1], ['r', 'y', 1]),
    ];
    expect(check(txns).anomalyTypes).toEqual(['G-single']);
    expect(check(txns).anomalies['G-single']![0]!.text).toMatch(/T1 read 1 and then wrote 2/);
    expect(check(txns, { writesFollowReads: false }).valid).toBe(true);
  });

  it('orders versions by process, or by real time, when told to', () => {
    // T1 read nil after its process wrote 1: not sequential.
    const session = [ok(0, ['w', 'x', 1]), ok(0, ['r', 'x', null])];
    expect(check(session).valid).toBe(true);
    const seq = check(session, { sequentialKeys: true });
    expect(seq.anomalyTypes).toEqual(['cyclic-versions']);
    // T2 read 1 after T1 wrote 2, itself after T0 wrote 1: not linearizable.
    const rt = [ok(0, ['w', 'x', 1]), ok(1, ['w', 'x', 2]), ok(2, ['r', 'x', 1])];
    const serial = txnHistory(sequential(rt), 'rw-register');
    expect(checkElle(serial, options).valid).toBe(true);
    const lin = checkElle(serial, { ...options, linearizableKeys: true });
    expect(lin.anomalyTypes).toEqual(['cyclic-versions']);
    expect(
      checkElle(txnHistory(concurrent(rt), 'rw-register'), { ...options, linearizableKeys: true })
        .valid,
    ).toBe(true);
    // Process order makes 1 < 2 on x: T0 →ww T1 →wr T2 →rw T0 (T2 missed T0's y).
    const txns = [
      ok(0, ['w', 'x', 1], ['w', 'y', 1]),
      ok(0, ['w', 'x', 2]),
      ok(1, ['r', 'x', 2], ['r', 'y', null]),
    ];
    expect(check(txns).valid).toBe(true);
    const single = check(txns, { sequentialKeys: true });
    expect(single.anomalyTypes).toEqual(['G-single']);
    expect(single.anomalies['G-single']![0]!.text).toMatch(
      /T0 ended on 1 and T1, next in its process, began on 2/,
    );
  });

  it('leaves a key with cyclic versions unordered', () => {
    const r = check(cases[8]![1]);
    expect(r.anomalies['cyclic-versions']![0]!.text).toMatch(/versions of key "x" form a cycle/);
    expect(r.anomalyTypes).toEqual(['G1c', 'cyclic-versions']);
  });

  it('is unknown when a value is written twice', () => {
    const r = check([ok(0, ['w', 'x', 1]), ok(1, ['w', 'x', 1])]);
    expect(r.valid).toBe('unknown');
    expect(r.unknown.join()).toMatch(/duplicate-writes/);
  });
});
