import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from './ring.js';

const ids = (k: number) => Array.from({ length: k }, (_, i) => `n${i + 1}`);
const keyArb = fc.string({ minLength: 1, maxLength: 40 });

describe('Ring', () => {
  it('gives preference lists of min(N, members) distinct members', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        keyArb,
        (m, n, key) => {
          const ring = new Ring(ids(m), 16);
          const pref = ring.preferenceList(key, n);
          expect(pref.length).toBe(Math.min(n, m));
          expect(new Set(pref).size).toBe(pref.length);
          for (const p of pref) expect(ids(m)).toContain(p);
        },
      ),
    );
  });

  it('is the same on every node whatever order the membership is given in', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(ids(7), { minLength: 7, maxLength: 7 }),
        keyArb,
        (order, key) => {
          expect(new Ring(order, 32).walk(key)).toEqual(new Ring(ids(7), 32).walk(key));
        },
      ),
    );
  });

  it('moves keys only to a joining member (the others keep their relative order)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.array(keyArb, { maxLength: 50 }),
        (m, keys) => {
          const before = new Ring(ids(m), 32);
          const after = new Ring([...ids(m), 'joiner'], 32);
          for (const key of keys) {
            expect(after.walk(key).filter((x) => x !== 'joiner')).toEqual(before.walk(key));
          }
        },
      ),
    );
  });

  it('spreads primaries roughly evenly with vnodes', () => {
    const ring = new Ring(ids(5), 128);
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const p = ring.preferenceList(`key-${i}`, 1)[0]!;
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    for (const id of ids(5)) {
      const share = (counts.get(id) ?? 0) / 20_000;
      expect(share).toBeGreaterThan(0.12);
      expect(share).toBeLessThan(0.28);
    }
  });

  it('walks every member exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), keyArb, (m, key) => {
        expect([...new Ring(ids(m), 8).walk(key)].sort()).toEqual(ids(m).sort());
      }),
    );
  });
});
