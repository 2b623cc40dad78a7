import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batches, MAX_BATCH, MAX_BATCH_BYTES, PeerRequestSchema } from './messages.js';

describe('batches', () => {
  it('keeps every item once, in order, within the count and (for several items) byte budgets', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3_000_000 }), { maxLength: 40 }), (sizes) => {
        const items = sizes.map((n, i) => ({ i, state: 'x'.repeat(n) }));
        const out = batches(items);
        expect(out.flat().map((x) => x.i)).toEqual(items.map((x) => x.i));
        for (const b of out) {
          expect(b.length).toBeGreaterThan(0);
          expect(b.length).toBeLessThanOrEqual(MAX_BATCH);
          const bytes = b.reduce((s, x) => s + x.state.length + 66, 0);
          if (b.length > 1) expect(bytes).toBeLessThanOrEqual(MAX_BATCH_BYTES + 66 * b.length);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('splits many small items by count', () => {
    const items = Array.from({ length: MAX_BATCH * 2 + 1 }, (_, i) => ({ state: i }));
    expect(batches(items).map((b) => b.length)).toEqual([MAX_BATCH, MAX_BATCH, 1]);
  });
});

describe('peer request validation', () => {
  it('accepts well-formed requests and rejects wrong shapes', () => {
    const state = { t: 'lww', ts: 1, node: 'n1', seq: 0, deleted: false, value: { a: [1] } };
    expect(
      PeerRequestSchema.safeParse({ t: 'merge', items: [{ type: 'kv', key: 'k', state }] }).success,
    ).toBe(true);
    expect(
      PeerRequestSchema.safeParse({ t: 'get', type: 'kv', key: 'k', hintFor: 'n2' }).success,
    ).toBe(true);
    for (const bad of [
      null,
      'merge',
      { t: 'nope' },
      { t: 'merge', items: [{ type: 'kv', key: 'k', state: { t: 'lww' } }] },
      { t: 'merge', items: [{ type: 'queue', key: 'k', state }] },
      { t: 'get', type: 'kv' },
      { t: 'ae-summary', buckets: ['a'] },
      { t: 'gossip', hb: [['n1', 'x', 1]] },
    ]) {
      expect(PeerRequestSchema.safeParse(bad).success).toBe(false);
    }
  });
});
