import { describe, expect, it } from 'vitest';
import type { Operation } from '../porcupine/index.js';
import { checkOperations, UNKNOWN } from '../porcupine/index.js';
import type { KvInput } from './kv.js';
import { kvModel } from './kv.js';
import type { RegisterOutput } from './register.js';
import { canon } from './values.js';

type Op = Operation<KvInput, RegisterOutput>;

/**
 * What a cut-off leader leaves on one key: `timedOut` writes that were sent and never answered
 * (info, each with a value nobody reads), while a sequence of ok write-then-read pairs goes on
 * elsewhere; `staleAt`, when given, makes the read of that pair return the value before.
 */
function cutOffLeader(timedOut: number, pairs: number, staleAt?: number): Op[] {
  const ops: Op[] = [];
  for (let i = 0; i < timedOut; i++) {
    ops.push({
      clientId: 100 + i,
      input: { key: 'r', f: 'write', value: canon(10_000 + i) },
      call: i,
      output: UNKNOWN,
      return: Number.POSITIVE_INFINITY,
    });
  }
  for (let j = 0; j < pairs; j++) {
    const t = 1000 + j * 10;
    ops.push({
      clientId: 1,
      input: { key: 'r', f: 'write', value: canon(j) },
      call: t,
      output: canon(true),
      return: t + 1,
    });
    const read = staleAt === j && j > 0 ? j - 1 : j;
    ops.push({
      clientId: 2,
      input: { key: 'r', f: 'read' },
      call: t + 2,
      output: canon(read),
      return: t + 3,
    });
  }
  return ops;
}

describe('indeterminate writes nobody observes are dropped before the search (Model.unobservable)', () => {
  const withHook = kvModel(null);
  const { unobservable: _, ...withoutHook } = withHook;
  const dropped = (ops: Op[]) => {
    const pick = withHook.unobservable?.(ops);
    if (pick === undefined) throw new Error('the kv model names no unobservable ops');
    return pick;
  };
  const budget = { maxCacheEntries: 20_000, timeoutMs: 20_000 };

  it('proves a stale read among 40 unanswered writes, where the whole search exhausts its budget', () => {
    // Proving a history illegal means trying every placement of every unanswered write: 2^40.
    const stale = cutOffLeader(40, 30, 17);
    expect(checkOperations(withoutHook, stale, budget).valid).toBe('unknown');
    expect(checkOperations(withHook, stale, budget).valid).toBe(false);
    expect(checkOperations(withHook, cutOffLeader(40, 30), budget).valid).toBe(true);
  });

  it('keeps a write whose value a read returned, or a cas expected', () => {
    const drop = dropped(cutOffLeader(3, 2));
    const [w0, w1] = cutOffLeader(2, 0);
    expect(drop(w0!)).toBe(true);
    const read: Op = {
      clientId: 9,
      input: { key: 'r', f: 'read' },
      call: 50,
      output: canon(10_001),
      return: 51,
    };
    const cas: Op = {
      clientId: 9,
      input: { key: 'r', f: 'cas', from: canon(10_000), to: canon(5) },
      call: 60,
      output: UNKNOWN,
      return: Number.POSITIVE_INFINITY,
    };
    const seen = dropped([w0!, w1!, read, cas]);
    expect(seen(w0!)).toBe(false);
    expect(seen(w1!)).toBe(false);
    // The cas itself wrote 5, which nothing observes; another key's read of 5 does not count.
    expect(seen(cas)).toBe(true);
    const otherKey: Op = { ...read, input: { key: 'q', f: 'read' }, output: canon(5) };
    expect(dropped([cas, otherKey])(cas)).toBe(true);
    // An op with a known outcome is never dropped.
    expect(seen(read)).toBe(false);
  });
});
