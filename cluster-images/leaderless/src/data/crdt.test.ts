/**
 * CRDT laws (joins commutative, associative, idempotent) over generated states, and the
 * client-visible semantics of each type checked against independent models of what each
 * replica has seen.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Replica } from '../replica/replica.js';
import type { Json, LwwState, State } from '../replica/types.js';
import { StateSchema } from '../replica/types.js';
import { canonicalJson } from './canonical.js';
import { Context } from './causal-context.js';
import { decodeContext, digestOf, joinStates, kvViewOf, lwwCompare, normalise } from './crdt.js';

const actors = ['a', 'b', 'c'];
const dotArb = fc.tuple(fc.constantFrom(...actors), fc.integer({ min: 1, max: 6 }));
/** The value a dot carries is a function of the dot: dots are unique events. */
const dotValue = (a: string, n: number, kind: 'mv' | 'orset'): Json =>
  kind === 'mv' ? `${a}${n}` : `e${(a.charCodeAt(0) * 7 + n) % 4}`;

function kernelArb(kind: 'mv' | 'orset'): fc.Arbitrary<State> {
  return fc
    .tuple(fc.uniqueArray(dotArb, { selector: (d) => d.join() }), fc.array(fc.boolean()))
    .map(([seen, liveMask]) => {
      const ctx = new Context();
      for (const [a, n] of seen) ctx.add(a, n);
      const dots = seen
        .filter((_, i) => liveMask[i] ?? true)
        .map(([a, n]) => [a, n, dotValue(a, n, kind)] as [string, number, Json]);
      return { t: kind, ctx: ctx.toWire(), dots } as State;
    });
}

const pnArb: fc.Arbitrary<State> = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom(...actors), fc.nat(50))),
    fc.array(fc.tuple(fc.constantFrom(...actors), fc.nat(50))),
  )
  .map(([p, n]) => ({ t: 'pn', p, n }));

const lwwArb: fc.Arbitrary<State> = fc
  .record({
    ts: fc.integer({ min: 0, max: 5 }),
    node: fc.constantFrom('n1', 'n2'),
    seq: fc.integer({ min: 0, max: 2 }),
    deleted: fc.boolean(),
    value: fc.constantFrom<Json>(1, 'x', { b: 1, a: 2 }, { a: 2, b: 1 }, null),
  })
  .map((r) => ({ t: 'lww', ...r, value: r.deleted ? null : r.value }));

const eq = (a: State, b: State): boolean =>
  canonicalJson(normalise(a) as Json) === canonicalJson(normalise(b) as Json);

describe.each([
  ['kv-lww', lwwArb],
  ['kv-siblings', kernelArb('mv')],
  ['or-set', kernelArb('orset')],
  ['pn-counter', pnArb],
] as const)('%s join', (_name, arb) => {
  it('is commutative', () => {
    fc.assert(
      fc.property(arb, arb, (a, b) => eq(joinStates(a, b), joinStates(b, a))),
      { numRuns: 300 },
    );
  });
  it('is associative', () => {
    fc.assert(
      fc.property(arb, arb, arb, (a, b, c) =>
        eq(joinStates(joinStates(a, b), c), joinStates(a, joinStates(b, c))),
      ),
      { numRuns: 300 },
    );
  });
  it('is idempotent', () => {
    fc.assert(
      fc.property(arb, (a) => eq(joinStates(a, a), a)),
      { numRuns: 200 },
    );
  });
  it('digests are equal exactly when normal forms are (so anti-entropy sees every difference)', () => {
    fc.assert(
      fc.property(arb, arb, arb, (a, b, c) => {
        const x = joinStates(joinStates(a, b), c);
        const y = joinStates(c, joinStates(b, a));
        if (digestOf(x) !== digestOf(y)) return false;
        return eq(a, b) === (digestOf(a) === digestOf(b));
      }),
      { numRuns: 300 },
    );
  });
  it('produces states that pass the wire schema', () => {
    fc.assert(
      fc.property(
        arb,
        arb,
        (a, b) => void StateSchema.parse(JSON.parse(JSON.stringify(joinStates(a, b)))),
      ),
    );
  });
});

const open = (nodeId: string, conflict: 'lww' | 'siblings') =>
  Replica.open({ nodeId, dataDir: '', storage: 'memory', fsync: 'never', conflict });

// Random executions over three replicas: each operation runs at one replica (coordinator =
// that replica, which also stores it), and replicas merge each other's state at random.
type Step =
  | { op: 'write'; at: number; withContext: boolean }
  | { op: 'delete'; at: number }
  | { op: 'sync'; from: number; to: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('write' as const), at: fc.nat(2), withContext: fc.boolean() }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(2) }),
  fc.record({ op: fc.constant('sync' as const), from: fc.nat(2), to: fc.nat(2) }),
);

describe('kv siblings semantics', () => {
  it('a write with a context supersedes exactly the siblings it saw; concurrent writes survive', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 40 }), async (steps) => {
        const rs = await Promise.all(['n1', 'n2', 'n3'].map((id) => open(id, 'siblings')));
        // model: every op is an id; `seen[op]` = the ops it had seen (its context);
        // `known[r]` = ops whose state reached replica r
        const seen = new Map<number, Set<number>>();
        const isWrite = new Set<number>();
        const known = rs.map(() => new Set<number>());
        let next = 0;
        const visible = (r: number): Set<number> => {
          const s = new Set<number>();
          for (const o of known[r]!) {
            s.add(o);
            for (const x of seen.get(o)!) s.add(x);
          }
          return s;
        };
        for (const st of steps) {
          if (st.op === 'sync') {
            const s = rs[st.from]!.get('kv', 'k');
            if (s) await rs[st.to]!.merge('kv', 'k', s);
            for (const o of known[st.from]!) known[st.to]!.add(o);
            continue;
          }
          const r = rs[st.at]!;
          const ctxUsed = st.op === 'delete' || st.withContext;
          const context = ctxUsed ? r.kvView(r.get('kv', 'k')).context : undefined;
          const id = next++;
          seen.set(id, ctxUsed ? visible(st.at) : new Set());
          if (st.op === 'write') isWrite.add(id);
          await r.merge('kv', 'k', r.kvWrite('k', st.op === 'write' ? id : undefined, context, 0));
          known[st.at]!.add(id);
        }
        for (let r = 0; r < rs.length; r++) {
          const expected = [...known[r]!]
            .filter((w) => isWrite.has(w))
            .filter((w) => ![...known[r]!].some((o) => seen.get(o)!.has(w)))
            .sort((x, y) => x - y);
          const got = (rs[r]!.kvView(rs[r]!.get('kv', 'k')).values as number[]).sort(
            (x, y) => x - y,
          );
          expect(got).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a context never claims a write the reader did not see', async () => {
    const [a, b] = await Promise.all([open('n1', 'siblings'), open('n2', 'siblings')]);
    await a.merge('kv', 'k', a.kvWrite('k', 1, undefined, 0));
    const w2 = a.kvWrite('k', 2, undefined, 0); // reaches only b
    await b.merge('kv', 'k', w2);
    await a.merge('kv', 'k', a.kvWrite('k', 3, undefined, 0));
    // a has dots 1 and 3 of its actor, not 2: its context must not cover 2
    const ctx = decodeContext(a.kvView(a.get('kv', 'k')).context);
    const c = Context.fromWire(ctx);
    expect(c.has(a.actor, 1) && c.has(a.actor, 3)).toBe(true);
    expect(c.has(a.actor, 2)).toBe(false);
    await b.merge('kv', 'k', a.kvWrite('k', 4, a.kvView(a.get('kv', 'k')).context, 0));
    expect((b.kvView(b.get('kv', 'k')).values as number[]).sort()).toEqual([2, 4]);
  });

  it('rejects a garbage context with a clear error', async () => {
    const a = await open('n1', 'siblings');
    expect(() => a.kvWrite('k', 1, 'not-a-context!', 0)).toThrow(/context/);
    const bad = Buffer.from(JSON.stringify({ vv: [['a', -1]], cloud: [] })).toString('base64url');
    expect(() => a.kvWrite('k', 1, bad, 0)).toThrow(/context: .*vv/);
    expect(() => a.kvWrite('k', undefined, undefined, 0)).toThrow(/delete .* needs the context/);
  });
});

describe('kv lww', () => {
  it('the highest (timestamp, node) wins whatever the merge order', () => {
    fc.assert(
      fc.property(fc.array(lwwArb, { minLength: 1, maxLength: 8 }), (states) => {
        const joined = states.reduce((x, y) => joinStates(x, y)) as LwwState;
        const best = [...states]
          .sort((x, y) => lwwCompare(x as LwwState, y as LwwState))
          .pop() as LwwState;
        expect(joined.ts).toBe(best.ts);
        expect(joined.node).toBe(best.node);
        expect(kvViewOf(joined).values).toEqual(best.deleted ? [] : [best.value]);
      }),
    );
  });

  it('a node whose clock runs ahead wins over later writes (clock skew loses writes, by design)', async () => {
    const [fast, slow] = await Promise.all([open('n1', 'lww'), open('n2', 'lww')]);
    const t0 = 1_700_000_000_000;
    const early = fast.kvWrite('k', 'first', undefined, t0 + 5000); // clock 5 s ahead
    await fast.merge('kv', 'k', early);
    const later = slow.kvWrite('k', 'second', undefined, t0 + 10); // happens later in real time
    await fast.merge('kv', 'k', later);
    await slow.merge('kv', 'k', later);
    await slow.merge('kv', 'k', early);
    expect(fast.kvView(fast.get('kv', 'k')).values).toEqual(['first']);
    expect(slow.kvView(slow.get('kv', 'k')).values).toEqual(['first']);
  });

  it('a delete is a tombstone that wins over older writes and loses to newer ones', async () => {
    const r = await open('n1', 'lww');
    await r.merge('kv', 'k', r.kvWrite('k', 1, undefined, 100));
    await r.merge('kv', 'k', r.kvWrite('k', undefined, undefined, 200));
    expect(r.kvView(r.get('kv', 'k')).values).toEqual([]);
    await r.merge('kv', 'k', r.kvWrite('k', 2, undefined, 150));
    expect(r.kvView(r.get('kv', 'k')).values).toEqual([]);
    await r.merge('kv', 'k', r.kvWrite('k', 3, undefined, 250));
    expect(r.kvView(r.get('kv', 'k')).values).toEqual([3]);
  });
});

type SetStep =
  | { op: 'add'; at: number; e: number }
  | { op: 'remove'; at: number; e: number }
  | { op: 'sync'; from: number; to: number };
const setStepArb: fc.Arbitrary<SetStep> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), at: fc.nat(2), e: fc.nat(3) }),
  fc.record({ op: fc.constant('remove' as const), at: fc.nat(2), e: fc.nat(3) }),
  fc.record({ op: fc.constant('sync' as const), from: fc.nat(2), to: fc.nat(2) }),
);

describe('OR-set semantics', () => {
  it('an element is present iff some add of it was not observed by a known remove (add wins)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(setStepArb, { maxLength: 40 }), async (steps) => {
        const rs = await Promise.all(['n1', 'n2', 'n3'].map((id) => open(id, 'lww')));
        const adds = new Map<number, number>(); // add op → element
        const removed = new Map<number, Set<number>>(); // remove op → adds it observed
        const known = rs.map(() => new Set<number>());
        let next = 0;
        const liveAdds = (r: number): number[] =>
          [...known[r]!].filter(
            (o) => adds.has(o) && ![...known[r]!].some((x) => removed.get(x)?.has(o)),
          );
        for (const st of steps) {
          if (st.op === 'sync') {
            const s = rs[st.from]!.get('set', 's');
            if (s) await rs[st.to]!.merge('set', 's', s);
            for (const o of known[st.from]!) known[st.to]!.add(o);
            continue;
          }
          const r = rs[st.at]!;
          const id = next++;
          if (st.op === 'add') {
            adds.set(id, st.e);
            await r.merge('set', 's', r.setAdd('s', st.e));
          } else {
            removed.set(id, new Set(liveAdds(st.at).filter((a) => adds.get(a) === st.e)));
            await r.merge('set', 's', r.setRemove('s', st.e, r.get('set', 's')));
          }
          known[st.at]!.add(id);
        }
        for (let r = 0; r < rs.length; r++) {
          const expected = [...new Set(liveAdds(r).map((a) => adds.get(a)!))].sort();
          expect((rs[r]!.setView(rs[r]!.get('set', 's')) as number[]).sort()).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an add that passes what it observed retires older dots of that element', async () => {
    const r = await open('n1', 'lww');
    await r.merge('set', 's', r.setAdd('s', 'x'));
    await r.merge('set', 's', r.setAdd('s', 'x', r.get('set', 's')));
    const s = r.get('set', 's');
    expect(s?.t === 'orset' && s.dots.length).toBe(1);
    expect(r.setView(s)).toEqual(['x']);
  });
});

describe('PN-counter', () => {
  it('reads the sum of the increments each replica has heard of', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('add' as const),
              at: fc.nat(2),
              d: fc.integer({ min: -5, max: 5 }),
            }),
            fc.record({ op: fc.constant('sync' as const), from: fc.nat(2), to: fc.nat(2) }),
          ),
          { maxLength: 40 },
        ),
        async (steps) => {
          const rs = await Promise.all(['n1', 'n2', 'n3'].map((id) => open(id, 'lww')));
          const deltas: number[] = [];
          const known = rs.map(() => new Set<number>());
          for (const st of steps) {
            if (st.op === 'sync') {
              const s = rs[st.from]!.get('counter', 'c');
              if (s) await rs[st.to]!.merge('counter', 'c', s);
              for (const o of known[st.from]!) known[st.to]!.add(o);
              continue;
            }
            const r = rs[st.at]!;
            deltas.push(st.d);
            await r.merge('counter', 'c', r.counterAdd('c', st.d));
            known[st.at]!.add(deltas.length - 1);
          }
          for (let r = 0; r < rs.length; r++) {
            const expected = [...known[r]!].reduce((s, o) => s + deltas[o]!, 0);
            expect(rs[r]!.counterView(rs[r]!.get('counter', 'c'))).toBe(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a non-integer delta', async () => {
    const r = await open('n1', 'lww');
    expect(() => r.counterAdd('c', 1.5)).toThrow(/delta/);
  });
});
