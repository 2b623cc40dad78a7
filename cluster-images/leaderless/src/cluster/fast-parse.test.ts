import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastGetReply, fastMergeReply, fastPeerRequest } from './fast-parse.js';
import { GetReplySchema, MergeReplySchema, PeerRequestSchema } from './messages.js';

/** Values near every boundary the schemas draw (types, ranges, lengths, depth). */
const edgy = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    true,
    false,
    0,
    -0,
    -1,
    1.5,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    'n1',
    'kv',
    'set',
    'counter',
    'lww',
    'mv',
    'x'.repeat(200),
    'x'.repeat(201),
    'k'.repeat(4096),
    'k'.repeat(4097),
    [],
    {},
  ),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
);

const deep = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
};
/** Mostly boundary values, so that a mutation often lands exactly on a schema's edge. */
const jsonish = fc.oneof(
  { arbitrary: edgy, weight: 6 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
  { arbitrary: fc.constantFrom(deep(63), deep(64), deep(65), deep(70)), weight: 1 },
);

const lww = fc.record({
  t: fc.constant('lww'),
  ts: fc.nat(),
  node: fc.constantFrom('n1', 'n2', 'node-3'),
  seq: fc.nat(),
  deleted: fc.boolean(),
  value: fc.jsonValue({ maxDepth: 3 }),
});
const item = fc.record({
  type: fc.constantFrom('kv', 'set', 'counter'),
  key: fc.string({ maxLength: 20 }),
  state: lww,
});
const validRequest = fc.oneof(
  fc.record({ t: fc.constant('merge'), items: fc.array(item, { maxLength: 4 }) }),
  fc.record(
    {
      t: fc.constant('merge'),
      items: fc.array(item, { maxLength: 2 }),
      hintFor: fc.constantFrom('n2', 'n3'),
    },
    { requiredKeys: ['t', 'items'] },
  ),
  fc.record(
    {
      t: fc.constant('get'),
      type: fc.constantFrom('kv', 'set', 'counter'),
      key: fc.string({ maxLength: 20 }),
      hintFor: fc.constantFrom('n2', 'n3'),
    },
    { requiredKeys: ['t', 'type', 'key'] },
  ),
);

type Path = Array<string | number>;
/** Every path to a value inside v (objects and arrays), including the root. */
function paths(v: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) out.push(...paths(x, [...at, i]));
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  }
  return out;
}

/** Replaces, deletes or adds one field somewhere in a copy of v. */
function mutate(v: unknown, pick: number, how: number, value: unknown, extraKey: string): unknown {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  const all = paths(copy);
  const path = all[pick % all.length]!;
  if (path.length === 0) return how % 3 === 0 ? value : copy;
  let parent: Record<string | number, unknown> = copy;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (how % 3 === 0) parent[last] = value;
  else if (how % 3 === 1 && !Array.isArray(parent)) delete parent[last];
  else if (!Array.isArray(parent)) parent[extraKey] = value;
  else parent[last] = value;
  return copy;
}

/** The fast path may decline (undefined) but, when it answers, must agree with zod exactly. */
function agrees<T>(
  fast: (v: unknown) => T | undefined,
  schema: { safeParse(v: unknown): unknown },
) {
  return (input: unknown) => {
    const got = fast(input);
    const ref = schema.safeParse(input) as { success: boolean; data?: unknown };
    if (got !== undefined) {
      expect(ref.success).toBe(true);
      expect(got).toStrictEqual(ref.data);
    }
    return got;
  };
}

describe('hand-written peer message validation agrees with the zod schemas', () => {
  const request = agrees(fastPeerRequest, PeerRequestSchema);

  it('takes the fast path for every valid lww merge and get, with the same result', () => {
    fc.assert(
      fc.property(validRequest, (r) => {
        expect(request(r)).toBeDefined();
      }),
      { numRuns: 500 },
    );
  });

  it('never accepts what zod refuses, nor answers differently, on mutated messages', () => {
    fc.assert(
      fc.property(
        validRequest,
        fc.array(
          fc.tuple(fc.nat(), fc.nat(), jsonish, fc.constantFrom('extra', 'value', 'hintFor', 't')),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        (r, mutations) => {
          let v: unknown = r;
          for (const [pick, how, value, key] of mutations) v = mutate(v, pick, how, value, key);
          request(v);
        },
      ),
      { numRuns: 4000 },
    );
  });

  it('agrees on replies', () => {
    const merge = agrees(fastMergeReply, MergeReplySchema);
    const get = agrees(fastGetReply, GetReplySchema);
    expect(merge({ ok: true })).toEqual({ ok: true });
    expect(get({ state: null })).toEqual({ state: null });
    fc.assert(
      fc.property(
        lww,
        fc.array(
          fc.tuple(fc.nat(), fc.nat(), jsonish, fc.constantFrom('extra', 'value', 'state', 'ok')),
          {
            maxLength: 3,
          },
        ),
        (state, mutations) => {
          let g: unknown = { state };
          let m: unknown = { ok: true };
          for (const [pick, how, value, key] of mutations) {
            g = mutate(g, pick, how, value, key);
            m = mutate(m, pick, how, value, key);
          }
          if (mutations.length === 0) expect(get(g)).toBeDefined();
          get(g);
          merge(m);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
