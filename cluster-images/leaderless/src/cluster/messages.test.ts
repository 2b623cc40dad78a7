import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linPutBody } from '../http/schemas.js';
import {
  batches,
  GossipReplySchema,
  MAX_BATCH,
  MAX_BATCH_BYTES,
  PeerRequestSchema,
} from './messages.js';

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

  it('validates every gossip field: ids, safe integers, a bounded table', () => {
    const ok = { t: 'gossip', hb: [['n1', 1_700_000_000_000, 5]] };
    expect(PeerRequestSchema.safeParse(ok).success).toBe(true);
    for (const hb of [
      [['n2', 1e308, 1]],
      [['n2', 1, 1e308]],
      [['n2', 1.5, 1]],
      [['n2', -1, 1]],
      [['n2', Number.MAX_SAFE_INTEGER + 2, 1]],
      [['bad id', 1, 1]],
      [['x'.repeat(65), 1, 1]],
      Array.from({ length: 257 }, (_, i) => [`n${i}`, 1, 1]),
    ]) {
      expect(PeerRequestSchema.safeParse({ t: 'gossip', hb }).success).toBe(false);
      expect(GossipReplySchema.safeParse({ hb }).success).toBe(false);
    }
  });
});

/** `[[...[x]...]]`: `depth` nested arrays (or objects) around a scalar. */
function nested(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { k: v };
  return v;
}

describe('nesting limits agree end to end', () => {
  it('accepts at the peers every value a client may send, as the acceptors store it', () => {
    for (const kind of ['array', 'object'] as const) {
      let deepest = 0;
      for (let d = 60; d <= 70; d++) {
        if (linPutBody.safeParse({ value: nested(d, kind) }).success) deepest = d;
      }
      expect(deepest).toBeGreaterThanOrEqual(64);
      const value = nested(deepest, kind) as never;
      // What a proposer sends in its accept phase: the register envelope `{v, ops}` around it.
      const stored = { v: value, ops: ['op-1'] };
      const accept = {
        t: 'paxos',
        req: { t: 'accept', key: 'k', ballot: { n: 1, node: 'n1' }, value: stored },
      };
      expect(PeerRequestSchema.safeParse(accept).success).toBe(true);
      const state = { t: 'lww', ts: 1, node: 'n1', seq: 0, deleted: false, value };
      const merge = { t: 'merge', items: [{ type: 'kv', key: 'k', state }] };
      expect(PeerRequestSchema.safeParse(merge).success).toBe(true);
    }
  });
});
