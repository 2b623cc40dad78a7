import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash64 } from '../data/canonical.js';
import type { RecordType, ReplicaApi } from '../replica/types.js';
import { DigestIndex, recordId } from './digest-index.js';
import { AE_BUCKETS } from './messages.js';
import { Ring } from './ring.js';

const MEMBERS = ['n1', 'n2', 'n3', 'n4'];

/** Bucket digests computed from scratch over a plain map of (type, key) → digest. */
function bruteSummary(
  self: string,
  ring: Ring,
  store: Map<string, [RecordType, string, string]>,
  peer: string,
): string[] {
  const h1 = new Uint32Array(AE_BUCKETS);
  const h2 = new Uint32Array(AE_BUCKETS);
  for (const [id, [, key, digest]] of store) {
    const pref = ring.preferenceList(key, 3);
    if (!pref.includes(self) || !pref.includes(peer)) continue;
    const bucket = hash64(key)[0] % AE_BUCKETS;
    const [a, b] = hash64(`${id}\u0000${digest}`);
    h1[bucket]! ^= a;
    h2[bucket]! ^= b;
  }
  return Array.from(h1, (a, i) =>
    a === 0 && h2[i] === 0
      ? ''
      : a.toString(16).padStart(8, '0') + h2[i]!.toString(16).padStart(8, '0'),
  );
}

describe('DigestIndex', () => {
  it('keeps per-peer bucket digests equal to a from-scratch computation', () => {
    const op = fc.record({
      type: fc.constantFrom<RecordType>('kv', 'set', 'counter'),
      key: fc.integer({ min: 0, max: 40 }).map((i) => `k${i}`),
      digest: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
      check: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const self = 'n1';
        const ring = new Ring(MEMBERS, 8);
        const store = new Map<string, [RecordType, string, string]>();
        const replica = {
          digest: (type: RecordType, key: string) => store.get(recordId(type, key))?.[2] ?? '',
          *entries() {
            for (const [type, key] of store.values()) yield { type, key };
          },
        } as unknown as ReplicaApi;
        const index = new DigestIndex(self, ring, 3, replica);
        index.rebuild();
        for (const o of ops) {
          const id = recordId(o.type, o.key);
          if (o.digest === undefined) store.delete(id);
          else store.set(id, [o.type, o.key, o.digest]);
          index.update(o.type, o.key);
          if (!o.check) continue;
          for (const peer of MEMBERS.slice(1)) {
            const want = bruteSummary(self, ring, store, peer);
            expect(index.summary(peer)).toEqual(want);
            const buckets = new Set(want.flatMap((d, i) => (d === '' ? [] : [i])));
            const got = index
              .records(peer, buckets)
              .map((r) => `${recordId(r.type, r.key)}=${r.digest}`)
              .sort();
            const expected = [...store]
              .filter(([, [, key]]) => {
                const pref = ring.preferenceList(key, 3);
                return pref.includes(self) && pref.includes(peer);
              })
              .map(([i, [, , d]]) => `${i}=${d}`)
              .sort();
            expect(got).toEqual(expected);
          }
        }
        expect(index.size).toBe(store.size);
      }),
      { numRuns: 200 },
    );
  });
});
