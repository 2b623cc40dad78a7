import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Membership } from './membership.js';

describe('Membership', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it('suspects a member whose heartbeat stops advancing, and clears it when it resumes', () => {
    const a = new Membership('a', ['a', 'b'], 1000, 8);
    const b = new Membership('b', ['a', 'b'], 1000, 8);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(100);
      a.merge(b.beat(), 'b');
    }
    expect(a.alive('b')).toBe(true);
    vi.advanceTimersByTime(1500);
    expect(a.alive('b')).toBe(false);
    expect(a.view().b!.status).toBe('suspect');
    a.merge(b.beat(), 'b');
    expect(a.alive('b')).toBe(true);
  });

  it('suspects earlier by phi when heartbeats were regular', () => {
    const a = new Membership('a', ['a', 'b'], 60_000, 3);
    const b = new Membership('b', ['a', 'b'], 60_000, 3);
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(100);
      a.merge(b.beat(), 'b');
    }
    vi.advanceTimersByTime(200);
    expect(a.alive('b')).toBe(true);
    vi.advanceTimersByTime(2000);
    expect(a.phi('b')).toBeGreaterThan(3);
    expect(a.alive('b')).toBe(false);
  });

  it('takes a restarted member (newer generation) even with a lower counter', () => {
    const a = new Membership('a', ['a', 'b'], 1000, 8);
    a.merge({ b: { gen: 5, n: 100 } }, 'b');
    a.merge({ b: { gen: 6, n: 1 } }, 'b');
    expect(a.snapshot().b).toEqual({ gen: 6, n: 1 });
    // a relay's stale news of the old run changes nothing
    a.merge({ b: { gen: 5, n: 200 } }, 'c');
    expect(a.snapshot().b).toEqual({ gen: 6, n: 1 });
  });

  it('ignores ids outside the static membership', () => {
    const a = new Membership('a', ['a', 'b'], 1000, 8);
    a.merge({ zz: { gen: 1, n: 1 } }, 'b');
    expect(Object.keys(a.snapshot())).not.toContain('zz');
  });

  it('lets what a member says of itself override what others claimed about it (forged gossip)', () => {
    const all = ['a', 'b', 'c'];
    const a = new Membership('a', all, 1000, 8);
    const b = new Membership('b', all, 1000, 8);
    const c = new Membership('c', all, 1000, 8);
    a.merge(c.beat(), 'c');
    // A forged frame "from b": far-future generations for b and for c.
    const forged = {
      b: { gen: Number.MAX_SAFE_INTEGER, n: 9 },
      c: { gen: Number.MAX_SAFE_INTEGER, n: 9 },
    };
    a.merge(forged, 'b');
    for (let i = 0; i < 30; i++) {
      vi.advanceTimersByTime(100);
      a.merge(c.beat(), 'c');
      a.merge(b.beat(), 'b');
      // b relays c's table honestly, and the forger keeps repeating its claim about c
      a.merge(b.snapshot(), 'b');
      a.merge({ c: forged.c }, 'b');
    }
    expect(a.alive('c')).toBe(true);
    expect(a.alive('b')).toBe(true);
    expect(a.snapshot().c!.gen).not.toBe(Number.MAX_SAFE_INTEGER);
    expect(a.snapshot().b!.gen).not.toBe(Number.MAX_SAFE_INTEGER);
  });

  it('learns about a member second-hand, but only within the generation it announced itself', () => {
    const a = new Membership('a', ['a', 'b', 'c'], 1000, 8);
    a.merge({ c: { gen: 10, n: 1 } }, 'b');
    expect(a.snapshot().c).toEqual({ gen: 10, n: 1 });
    a.merge({ c: { gen: 10, n: 5 } }, 'b');
    expect(a.snapshot().c).toEqual({ gen: 10, n: 5 });
    a.merge({ c: { gen: 10, n: 6 } }, 'c');
    a.merge({ c: { gen: 99, n: 1 } }, 'b');
    expect(a.snapshot().c).toEqual({ gen: 10, n: 6 });
    a.merge({ c: { gen: 10, n: 7 } }, 'b');
    expect(a.snapshot().c).toEqual({ gen: 10, n: 7 });
  });

  it('ignores heartbeats that are not safe non-negative integers', () => {
    const a = new Membership('a', ['a', 'b'], 1000, 8);
    a.merge({ b: { gen: 1e308, n: 1 } }, 'b');
    a.merge({ b: { gen: 5, n: Number.POSITIVE_INFINITY } }, 'b');
    a.merge({ b: { gen: -1, n: 1 } }, 'b');
    expect(a.snapshot().b).toBeUndefined();
  });
});
