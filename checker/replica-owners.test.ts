import { describe, expect, it } from 'vitest';
import { checkConvergence } from './convergence.js';
import { checkCounter } from './counter.js';
import { HistoryShapeError } from './replica-reads.js';
import { checkSetFull } from './set-full.js';
import { HistoryBuilder } from './testing/replicated-history.js';

/** Key `s` is owned by n1, n3 and n4 of five nodes. */
const OWNERS = ['n1', 'n3', 'n4'];
const set = (...elements: unknown[]) => ({ s: { elements, owners: OWNERS } });
const nothing = {};

function setRun(byNode: Record<string, Record<string, unknown> | null>) {
  return new HistoryBuilder()
    .op({ process: 0, f: 'add', key: 's', value: 1, at: 0, end: 10 })
    .op({ process: 1, f: 'add', key: 's', value: 2, at: 5, end: 15 })
    .nemesis('heal-all-stop', 100)
    .round(0, 200, 210, byNode)
    .build();
}

describe('replica reads that name each key owners', () => {
  it('a key held identically by its 3 owners of 5 nodes agrees; non-owners hold nothing', () => {
    const h = setRun({ n1: set(1, 2), n2: nothing, n3: set(2, 1), n4: set(1, 2), n5: nothing });
    const c = checkConvergence(h, { type: 'set' });
    expect(c.valid).toBe(true);
    expect(c.converged).toBe(true);
    expect(checkSetFull(h).valid).toBe(true);
  });

  it('an owner missing the key disagrees with the others (the empty state)', () => {
    const h = setRun({ n1: set(1, 2), n2: nothing, n3: nothing, n4: set(1, 2), n5: nothing });
    const c = checkConvergence(h, { type: 'set' });
    expect(c.valid).toBe(false);
    expect(c.divergent).toMatchObject([{ key: 's' }]);
    const replicas = c.divergent[0]!.groups.flatMap((g) => g.replicas).sort();
    expect(replicas).toEqual(OWNERS);
  });

  it('a write every owner lost is lost, though a non-owner (a hint holder) still has it', () => {
    const hint = set(1, 2);
    const h = setRun({ n1: set(1), n2: hint, n3: set(1), n4: set(1), n5: nothing });
    const c = checkConvergence(h, { type: 'set' });
    expect(c.valid).toBe(false);
    expect(c.lost.map((l) => l.value)).toEqual([2]);
    const s = checkSetFull(h);
    expect(s.valid).toBe(false);
    expect(s.lost.map((l) => l.element)).toEqual([2]);
  });

  it('a key only a hint holder names is judged among the owners it names: all lost', () => {
    const h = setRun({ n1: nothing, n2: set(1, 2), n3: nothing, n4: nothing, n5: nothing });
    const c = checkConvergence(h, { type: 'set' });
    expect(c.valid).toBe(false);
    expect(c.lost.map((l) => l.value)).toEqual([1, 2]);
    expect(checkSetFull(h).lost.map((l) => l.element)).toEqual([1, 2]);
  });

  it('a key no node names is still judged against its acknowledged writes', () => {
    const h = setRun({ n1: nothing, n2: nothing, n3: nothing, n4: nothing, n5: nothing });
    expect(checkConvergence(h, { type: 'set' }).lost.map((l) => l.value)).toEqual([1, 2]);
    expect(checkSetFull(h).lost.map((l) => l.element)).toEqual([1, 2]);
  });

  it("a non-owner's stale copy is ignored", () => {
    const stale = { s: { elements: [1], owners: OWNERS } };
    const h = setRun({ n1: set(1, 2), n2: stale, n3: set(1, 2), n4: set(1, 2), n5: stale });
    expect(checkConvergence(h, { type: 'set' }).valid).toBe(true);
    expect(checkSetFull(h).valid).toBe(true);
  });

  it('an owner that could not be read leaves the verdict open', () => {
    const h = setRun({ n1: set(1, 2), n2: nothing, n3: null, n4: set(1, 2), n5: nothing });
    expect(checkConvergence(h, { type: 'set' }).valid).toBe('unknown');
  });

  it('an owner named but never read counts as missing', () => {
    const owned = { s: { elements: [1, 2], owners: ['n1', 'n9'] } };
    const h = setRun({ n1: owned, n2: nothing });
    const c = checkConvergence(h, { type: 'set' });
    expect(c.valid).toBe('unknown');
    expect(c.missingReplicas).toEqual(['n9']);
  });

  it('the union of the owners claimed is judged (nodes whose ring views differ)', () => {
    const a = { s: { elements: [1, 2], owners: ['n1', 'n3'] } };
    const b = { s: { elements: [1, 2], owners: ['n3', 'n4'] } };
    // n4 is an owner by n3's view, and lacks the key.
    const h = setRun({ n1: a, n2: nothing, n3: b, n4: nothing, n5: nothing });
    expect(checkConvergence(h, { type: 'set' }).divergentKeyCount).toBe(1);
  });

  it('without owners every node holds every key, as before', () => {
    const plain = { s: { elements: [1, 2] } };
    const h = setRun({ n1: plain, n2: nothing, n3: plain, n4: plain, n5: nothing });
    const c = checkConvergence(h, { type: 'set' });
    expect(c.valid).toBe(false);
    expect(c.divergent[0]!.groups.flatMap((g) => g.replicas).sort()).toEqual([
      'n1',
      'n2',
      'n3',
      'n4',
      'n5',
    ]);
  });

  it('counters and kv: owners judged, non-owners ignored, a lagging owner out of agreement', () => {
    const counter = (value: number) => ({ c: { value, owners: ['n2', 'n3', 'n5'] } });
    const counterRun = (byNode: Record<string, Record<string, unknown>>) =>
      new HistoryBuilder()
        .op({ process: 0, f: 'add', key: 'c', value: 3, at: 0, end: 10 })
        .round(0, 100, 110, byNode)
        .build();
    const good = counterRun({
      n1: counter(1),
      n2: counter(3),
      n3: counter(3),
      n4: {},
      n5: counter(3),
    });
    expect(checkCounter(good).valid).toBe(true);
    expect(checkConvergence(good, { type: 'counter' }).valid).toBe(true);
    const lagging = counterRun({ n1: {}, n2: counter(3), n3: counter(3), n4: {}, n5: {} });
    expect(checkCounter(lagging).valid).toBe(false);
    expect(checkConvergence(lagging, { type: 'counter' }).valid).toBe(false);

    const kv = (v: string) => ({ k: { values: [v], owners: ['n1', 'n2', 'n3'] } });
    const kvRun = (byNode: Record<string, Record<string, unknown>>) =>
      new HistoryBuilder()
        .op({ process: 0, f: 'write', key: 'k', value: 'a', at: 0, end: 10 })
        .op({ process: 0, f: 'write', key: 'k', value: 'b', at: 20, end: 30 })
        .round(0, 100, 110, byNode)
        .build();
    const ok = kvRun({ n1: kv('b'), n2: kv('b'), n3: kv('b'), n4: kv('a'), n5: {} });
    expect(checkConvergence(ok, { type: 'lww' }).valid).toBe(true);
    const lost = kvRun({ n1: kv('a'), n2: kv('a'), n3: kv('a'), n4: kv('b'), n5: {} });
    const r = checkConvergence(lost, { type: 'lww' });
    expect(r.valid).toBe(false);
    expect(r.lost.map((l) => l.value)).toEqual(['b']);
  });

  it('names the field of a malformed owners list', () => {
    const h = setRun({ n1: { s: { elements: [1], owners: 'n1' } } });
    expect(() => checkConvergence(h, { type: 'set' })).toThrow(HistoryShapeError);
    expect(() => checkConvergence(h, { type: 'set' })).toThrow(/value\.keys\.s\.owners/);
  });
});
