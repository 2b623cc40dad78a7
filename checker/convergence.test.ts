import { describe, expect, it } from 'vitest';
import { checkConvergence } from './convergence.js';
import { HistoryShapeError } from './replica-reads.js';
import { HistoryBuilder } from './testing/replicated-history.js';

const kv = (values: unknown[], ts?: number[]) => (ts ? { values, ts } : { values });

describe('checkConvergence: lww', () => {
  it('passes when every replica holds the last write, and times convergence from the heal', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
      .op({ process: 0, f: 'write', key: 'k', value: 'b', at: 20, end: 30 })
      .nemesis('heal-all-stop', 1000)
      .round(0, 1100, 1110, { n1: { k: kv(['b']) }, n2: { k: kv(['a']) } })
      .round(1, 1200, 1210, { n1: { k: kv(['b']) }, n2: { k: kv(['b']) } })
      .round(2, 1300, 1305, { n1: { k: kv(['b']) }, n2: { k: kv(['b']) } })
      .build();
    const r = checkConvergence(h, { type: 'lww' });
    expect(r.valid).toBe(true);
    expect(r.summary).toEqual([]);
    expect(r.rounds).toBe(3);
    expect(r.timeToConvergeMs).toBe(210);
    expect(r.healAtMs).toBe(1000);
  });

  it('reports a write lost to an older one, with both timestamps: the clock-skew signature', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10, extra: { ts: 5000 } })
      .op({ process: 1, f: 'write', key: 'k', value: 'b', at: 20, end: 30, extra: { ts: 3000 } })
      .nemesis('heal-all-stop', 100)
      .round(0, 200, 210, { n1: { k: kv(['a'], [5000]) }, n2: { k: kv(['a'], [5000]) } })
      .build();
    const r = checkConvergence(h, { type: 'lww' });
    expect(r.valid).toBe(false);
    expect(r.lostCount).toBe(1);
    const [lost] = r.lost;
    expect(lost).toMatchObject({
      key: 'k',
      value: 'b',
      ts: 3000,
      winnerOlderInRealTime: true,
      timestampsInverted: true,
      winner: { value: 'a', ts: 5000, completedAtMs: 10 },
    });
    expect(r.summary.join(' ')).toMatch(/clock-skew/);
    expect(r.summary.join(' ')).toMatch(/"b" lost to "a"/);
  });

  it('says when a timestamp tie, not skew, decided against the later write', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10, extra: { ts: 100 } })
      .op({ process: 1, f: 'write', key: 'k', value: 'b', at: 20, end: 30, extra: { ts: 100 } })
      .round(0, 200, 210, { n1: { k: kv(['a'], [100]) }, n2: { k: kv(['a'], [100]) } })
      .build();
    const r = checkConvergence(h, { type: 'lww' });
    expect(r.lost).toMatchObject([{ value: 'b', timestampsInverted: false }]);
    expect(r.summary[0]).toMatch(/timestamp tie/);
    expect(r.summary[0]).not.toMatch(/clock-skew/);
  });

  it('times convergence from the first round after which every round agreed', () => {
    const same = { n1: { k: kv(['a']) }, n2: { k: kv(['a']) } };
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
      .nemesis('heal-all-stop', 100)
      .round(0, 110, 120, same)
      .round(1, 200, 220, { n1: { k: kv(['a']) }, n2: null })
      .round(2, 300, 330, same)
      .round(3, 400, 410, same)
      .build();
    const r = checkConvergence(h, { type: 'lww' });
    expect(r.valid).toBe(true);
    expect(r.rounds).toBe(4);
    expect(r.convergedAtMs).toBe(330);
    expect(r.timeToConvergeMs).toBe(230);
  });

  it('is unknown when the last round misses a replica, though the others agree', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
      .round(0, 110, 120, { n1: { k: kv(['a']) }, n2: { k: kv(['a']) }, n3: null })
      .build();
    const r = checkConvergence(h, { type: 'lww' });
    expect(r.valid).toBe('unknown');
    expect(r.converged).toBe(false);
    expect(r.summary).toEqual(['n3 could not be read in the last round (0)']);
  });

  it('excuses a write that a concurrent write may legitimately have overwritten', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 50 })
      .op({ process: 1, f: 'write', key: 'k', value: 'b', at: 20, end: 30 })
      .round(0, 200, 210, { n1: { k: kv(['a']) }, n2: { k: kv(['a']) } })
      .build();
    expect(checkConvergence(h, { type: 'lww' }).valid).toBe(true);
  });

  it('excuses writes overwritten by an indeterminate write', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
      .op({ process: 1, f: 'write', key: 'k', value: 'c', at: 5, status: 'info', end: 6 })
      .op({ process: 2, f: 'write', key: 'k', value: 'b', at: 20, end: 30 })
      .round(0, 200, 210, { n1: { k: kv(['c']) }, n2: { k: kv(['c']) } })
      .build();
    expect(checkConvergence(h, { type: 'lww' }).valid).toBe(true);
  });

  it('reports a key emptied on every replica, and its last write as lost', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
      .op({ process: 0, f: 'write', key: 'k', value: 'b', at: 20, end: 30 })
      .round(0, 200, 210, { n1: {}, n2: { k: kv([]) } })
      .build();
    const r = checkConvergence(h, { type: 'lww' });
    expect(r.valid).toBe(false);
    expect(r.emptiedKeys).toEqual(['k']);
    expect(r.lost.map((l) => l.value)).toEqual(['b']);
    expect(r.lost[0]!.winner).toBeNull();
  });

  it('reports divergent replicas with what each holds', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
      .op({ process: 1, f: 'write', key: 'k', value: 'b', at: 0, end: 10 })
      .round(0, 200, 210, { n1: { k: kv(['a']) }, n2: { k: kv(['b']) }, n3: { k: kv(['a']) } })
      .build();
    const r = checkConvergence(h, { type: 'lww' });
    expect(r.valid).toBe(false);
    expect(r.converged).toBe(false);
    expect(r.timeToConvergeMs).toBeNull();
    expect(r.divergentKeyCount).toBe(1);
    expect(r.divergent[0]!.groups).toEqual([
      { replicas: ['n1', 'n3'], state: { values: ['a'] } },
      { replicas: ['n2'], state: { values: ['b'] } },
    ]);
    expect(r.summary[0]).toBe(
      'replicas n1, n3 and n2 disagree on key k: n1 and n3 hold ["a"]; n2 holds ["b"]',
    );
  });

  it('reports values that no client wrote', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
      .round(0, 200, 210, { n1: { k: kv(['zz']) }, n2: { k: kv(['zz']) } })
      .build();
    const r = checkConvergence(h, { type: 'lww' });
    expect(r.valid).toBe(false);
    expect(r.unexpected).toEqual([{ key: 'k', value: 'zz', replicas: ['n1', 'n2'] }]);
  });

  it('is unknown when a replica could not be read, and holds back a would-be loss', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
      .round(0, 200, 210, { n1: {}, n2: null })
      .build();
    const r = checkConvergence(h, { type: 'siblings' });
    expect(r.missingReplicas).toEqual(['n2']);
    expect(r.lostCount).toBe(0);
    expect(r.possiblyLostCount).toBe(1);
    // n2 may hold the write: neither lost nor an emptied key, but not valid either.
    expect(r.valid).toBe('unknown');
    expect(r.emptiedKeys).toEqual([]);
    expect(r.summary.join(' ')).toMatch(/n2 could not be read/);
  });

  it('is unknown with no final reads at all', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
      .build();
    const r = checkConvergence(h, { type: 'lww' });
    expect(r.valid).toBe('unknown');
    expect(r.source).toBe('none');
    expect(r.summary).toHaveLength(1);
  });
});

describe('checkConvergence: siblings', () => {
  const base = () =>
    new HistoryBuilder()
      .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
      .op({ process: 1, f: 'write', key: 'k', value: 'b', at: 5, end: 30 });

  it('passes when a later write may have superseded an earlier one', () => {
    const h = base()
      .round(0, 100, 110, { n1: { k: kv(['b']) }, n2: { k: kv(['b']) } })
      .build();
    expect(checkConvergence(h, { type: 'siblings' }).valid).toBe(true);
  });

  it('passes with concurrent siblings kept', () => {
    const h = base()
      .round(0, 100, 110, { n1: { k: kv(['b', 'a']) }, n2: { k: kv(['a', 'b']) } })
      .build();
    expect(checkConvergence(h, { type: 'siblings' }).valid).toBe(true);
  });

  it('reports the last write lost when nothing could have superseded it', () => {
    const h = base()
      .round(0, 100, 110, { n1: { k: kv(['a']) }, n2: { k: kv(['a']) } })
      .build();
    const r = checkConvergence(h, { type: 'siblings' });
    expect(r.valid).toBe(false);
    expect(r.lost.map((l) => l.value)).toEqual(['b']);
    expect(r.summary[0]).toBe('1 acknowledged write lost on key k: "b"');
  });
});

describe('checkConvergence: set and counter', () => {
  it('reports a lost add, excuses a removed one, and names an unexpected element', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'add', key: 's7', value: 1, at: 0, end: 10 })
      .op({ process: 0, f: 'add', key: 's7', value: 2, at: 20, end: 30 })
      .op({ process: 0, f: 'add', key: 's7', value: 3, at: 40, end: 50 })
      .op({ process: 1, f: 'remove', key: 's7', value: 3, at: 45, status: 'info', end: 60 })
      .round(0, 100, 110, {
        n1: { s7: { elements: [1, 99] } },
        n2: { s7: { elements: [99, 1] } },
      })
      .build();
    const r = checkConvergence(h, { type: 'set' });
    expect(r.valid).toBe(false);
    expect(r.lost.map((l) => l.value)).toEqual([2]);
    expect(r.unexpected.map((u) => u.value)).toEqual([99]);
    expect(r.divergentKeyCount).toBe(0);
    expect(r.summary[0]).toBe('1 acknowledged add lost on key s7: 2');
  });

  it('reports divergent sets with the elements each replica misses', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'add', key: 's', value: 1, at: 0, end: 10 })
      .op({ process: 0, f: 'add', key: 's', value: 2, at: 20, end: 30 })
      .round(0, 100, 110, { n1: { s: { elements: [1, 2] } }, n2: { s: { elements: [1] } } })
      .build();
    const r = checkConvergence(h, { type: 'set' });
    expect(r.valid).toBe(false);
    expect(r.lostCount).toBe(0);
    expect(r.divergent[0]!.groups).toEqual([
      { replicas: ['n1'], state: { size: 2, missing: [], missingCount: 0 } },
      { replicas: ['n2'], state: { size: 1, missing: [2], missingCount: 1 } },
    ]);
  });

  it('checks counter values against the bounds and against each other', () => {
    const ops = new HistoryBuilder()
      .op({ process: 0, f: 'add', key: 'c', value: 5, at: 0, end: 10 })
      .op({ process: 1, f: 'add', key: 'c', value: 3, at: 0, status: 'info', end: 10 })
      .op({ process: 2, f: 'add', key: 'c', value: -2, at: 0, status: 'pending' })
      .op({ process: 3, f: 'add', key: 'c', value: 100, at: 0, status: 'fail', end: 10 });
    const good = ops.round(0, 100, 110, { n1: { c: { value: 6 } }, n2: { c: { value: 6 } } });
    expect(checkConvergence(good.build(), { type: 'counter' }).valid).toBe(true);
    const bad = new HistoryBuilder()
      .op({ process: 0, f: 'add', key: 'c', value: 5, at: 0, end: 10 })
      .op({ process: 1, f: 'add', key: 'c', value: -2, at: 0, status: 'info', end: 10 })
      .round(0, 100, 110, { n1: { c: { value: 2 } }, n2: { c: { value: 2 } } })
      .build();
    const r = checkConvergence(bad, { type: 'counter' });
    expect(r.valid).toBe(false);
    expect(r.outOfBounds).toEqual([
      { key: 'c', replica: 'n1', value: 2, lower: 3, upper: 5, acknowledged: 5 },
      { key: 'c', replica: 'n2', value: 2, lower: 3, upper: 5, acknowledged: 5 },
    ]);
  });
});

describe('checkConvergence: Jepsen-style final reads', () => {
  it('uses each process’s last read after the heal as a replica', () => {
    const build = (second: unknown[]) =>
      new HistoryBuilder()
        .op({ process: 0, f: 'add', key: 's', value: 1, at: 0, end: 10 })
        .op({ process: 1, f: 'add', key: 's', value: 2, at: 0, end: 10 })
        .op({ process: 0, f: 'read', key: 's', at: 20, end: 30, result: [] })
        .nemesis('stop', 40)
        .op({ process: 0, f: 'read', key: 's', at: 50, end: 60, result: [1, 2] })
        .op({ process: 1, f: 'read', key: 's', at: 50, end: 60, result: second })
        .build();
    const good = checkConvergence(build([2, 1]), { type: 'set' });
    expect(good.valid).toBe(true);
    expect(good.source).toBe('final-read');
    expect(good.replicas).toEqual(['process 0', 'process 1']);
    expect(good.timeToConvergeMs).toBeNull();
    const bad = checkConvergence(build([1]), { type: 'set' });
    expect(bad.valid).toBe(false);
    expect(bad.divergentKeyCount).toBe(1);
  });

  it('reads a register read of nil as an empty key', () => {
    const h = new HistoryBuilder()
      .op({ process: 0, f: 'write', value: 3, at: 0, end: 10 })
      .op({ process: 0, f: 'read', at: 20, end: 30, result: null })
      .build();
    const r = checkConvergence(h, { type: 'lww' });
    expect(r.valid).toBe(false);
    expect(r.emptiedKeys).toEqual(['']);
  });
});

describe('checkConvergence: bad input', () => {
  it('names the op and the field of a replica state that does not fit the contract', () => {
    const h = new HistoryBuilder().round(0, 100, 110, { n1: { k: { values: 5 } } }).build();
    expect(() => checkConvergence(h, { type: 'lww' })).toThrow(HistoryShapeError);
    expect(() => checkConvergence(h, { type: 'lww' })).toThrow(
      /replica-read at history index 1: field "value\.keys\.k\.values": /,
    );
  });

  it('names a bad replica-read invoke', () => {
    const h = new HistoryBuilder()
      .op({ process: 9, f: 'replica-read', value: { round: 0 }, at: 0, end: 1 })
      .build();
    expect(() => checkConvergence(h, { type: 'set' })).toThrow(
      /replica-read at history index 0: field "value\.node"/,
    );
  });

  it('names a set state of the wrong type', () => {
    const h = new HistoryBuilder().round(0, 100, 110, { n1: { s: { elements: 'x' } } }).build();
    expect(() => checkConvergence(h, { type: 'set' })).toThrow(/value\.keys\.s\.elements/);
  });
});
