import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Json, LwwState } from '../replica/types.js';
import { canonicalJson, hash64 } from './canonical.js';
import { lwwCanonical } from './crdt.js';

/** Reference: rebuild every object with its keys inserted in sorted order, then stringify. */
function reference(v: Json): string {
  const sortDeep = (x: Json): Json => {
    if (x === null || typeof x !== 'object') return x;
    if (Array.isArray(x)) return x.map(sortDeep);
    const keys = Object.keys(x).sort();
    // non-integer-like keys keep insertion order in JSON.stringify; integer-like ones would not,
    // so the reference writes objects itself
    return Object.fromEntries(keys.map((k) => [k, sortDeep(x[k] as Json)]));
  };
  const write = (x: Json): string => {
    if (x === null || typeof x !== 'object') return JSON.stringify(x);
    if (Array.isArray(x)) return `[${x.map(write).join(',')}]`;
    return `{${Object.keys(x)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${write(x[k] as Json)}`)
      .join(',')}}`;
  };
  return write(sortDeep(v));
}

const key = fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom('1', '10', '9', 'a', 'B', '_'));
const json: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false, 0, -1, 1.5, 'x', ''),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe('canonicalJson', () => {
  it('equals a sorted-keys reference, whatever the key order', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 2000 },
    );
  });
  it('lwwCanonical equals canonicalJson of the state', () => {
    const state = fc.record({
      t: fc.constant('lww' as const),
      ts: fc.nat(),
      node: fc.string({ minLength: 1, maxLength: 5 }),
      seq: fc.nat(),
      deleted: fc.boolean(),
      value: json,
    });
    fc.assert(
      fc.property(state, (s: LwwState) => {
        expect(lwwCanonical(s)).toBe(canonicalJson(s as unknown as Json));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('hash64', () => {
  it('is deterministic and spreads nearby keys over the buckets', () => {
    expect(hash64('k1')).toEqual(hash64('k1'));
    const buckets = new Set<number>();
    const pairs = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const [a, b] = hash64(`k${i}`);
      buckets.add(a % 4096);
      pairs.add(`${a},${b}`);
    }
    expect(pairs.size).toBe(10_000);
    expect(buckets.size).toBeGreaterThan(3500);
  });
});
