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
      a.merge(b.beat());
    }
    expect(a.alive('b')).toBe(true);
    vi.advanceTimersByTime(1500);
    expect(a.alive('b')).toBe(false);
    expect(a.view().b!.status).toBe('suspect');
    a.merge(b.beat());
    expect(a.alive('b')).toBe(true);
  });

  it('suspects earlier by phi when heartbeats were regular', () => {
    const a = new Membership('a', ['a', 'b'], 60_000, 3);
    const b = new Membership('b', ['a', 'b'], 60_000, 3);
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(100);
      a.merge(b.beat());
    }
    vi.advanceTimersByTime(200);
    expect(a.alive('b')).toBe(true);
    vi.advanceTimersByTime(2000);
    expect(a.phi('b')).toBeGreaterThan(3);
    expect(a.alive('b')).toBe(false);
  });

  it('takes a restarted member (newer generation) even with a lower counter', () => {
    const a = new Membership('a', ['a', 'b'], 1000, 8);
    a.merge({ b: { gen: 5, n: 100 } });
    a.merge({ b: { gen: 6, n: 1 } });
    expect(a.snapshot().b).toEqual({ gen: 6, n: 1 });
    a.merge({ b: { gen: 5, n: 200 } });
    expect(a.snapshot().b).toEqual({ gen: 6, n: 1 });
  });

  it('ignores ids outside the static membership', () => {
    const a = new Membership('a', ['a', 'b'], 1000, 8);
    a.merge({ zz: { gen: 1, n: 1 } });
    expect(Object.keys(a.snapshot())).not.toContain('zz');
  });
});
