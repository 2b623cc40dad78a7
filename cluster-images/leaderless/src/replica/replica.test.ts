import { cpSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { compareBallots } from '../paxos/ballot.js';
import { Replica } from './replica.js';
import {
  type Ballot,
  type ConflictMode,
  type DumpItem,
  type FsyncMode,
  PaxosRequestSchema,
  RecordItemSchema,
  ReplicaInputError,
  type StorageMode,
} from './types.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'leaderless-replica-'));
  dirs.push(d);
  return d;
}
const open: Array<Replica> = [];
async function openReplica(
  dataDir: string,
  o: {
    conflict?: ConflictMode;
    fsync?: FsyncMode;
    storage?: StorageMode;
    nodeId?: string;
    compactBytes?: number;
  } = {},
): Promise<Replica> {
  const r = await Replica.open({
    nodeId: o.nodeId ?? 'n1',
    dataDir,
    storage: o.storage ?? 'disk',
    fsync: o.fsync ?? 'always',
    conflict: o.conflict ?? 'siblings',
    ...(o.compactBytes !== undefined ? { compactBytes: o.compactBytes } : {}),
  });
  open.push(r);
  return r;
}
afterEach(async () => {
  for (const r of open.splice(0)) await r.close().catch(() => {});
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const sortDump = (items: Iterable<DumpItem>): string =>
  JSON.stringify([...items].sort((a, b) => (a.type + a.key < b.type + b.key ? -1 : 1)));

/** A random workload over every kind of record, run against a replica (and a peer coordinator). */
type Op =
  | { op: 'kv'; key: number; value: number | null; ctx: boolean }
  | { op: 'add' | 'remove'; key: number; e: number }
  | { op: 'count'; key: number; d: number }
  | { op: 'prepare' | 'accept'; key: number; n: number; node: string }
  | { op: 'hint'; owner: string; key: number; value: number }
  | { op: 'deliver'; owner: string };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('kv' as const),
    key: fc.nat(4),
    value: fc.option(fc.nat(9)),
    ctx: fc.boolean(),
  }),
  fc.record({
    op: fc.constantFrom('add' as const, 'remove' as const),
    key: fc.nat(2),
    e: fc.nat(5),
  }),
  fc.record({
    op: fc.constant('count' as const),
    key: fc.nat(2),
    d: fc.integer({ min: -9, max: 9 }),
  }),
  fc.record({
    op: fc.constantFrom('prepare' as const, 'accept' as const),
    key: fc.nat(2),
    n: fc.nat(6),
    node: fc.constantFrom('x', 'y'),
  }),
  fc.record({
    op: fc.constant('hint' as const),
    owner: fc.constantFrom('n2', 'n3'),
    key: fc.nat(3),
    value: fc.nat(9),
  }),
  fc.record({ op: fc.constant('deliver' as const), owner: fc.constantFrom('n2', 'n3') }),
);

function apply(r: Replica, coord: Replica, o: Op): Promise<unknown> {
  const k = `k${o.op === 'deliver' ? '' : o.key}`;
  switch (o.op) {
    case 'kv': {
      const ctx = o.ctx || o.value === null ? r.kvView(r.get('kv', k)).context : undefined;
      return r.merge('kv', k, coord.kvWrite(k, o.value ?? undefined, ctx, 1000 + o.key));
    }
    case 'add':
      return r.merge('set', k, coord.setAdd(k, o.e));
    case 'remove':
      return r.merge('set', k, coord.setRemove(k, o.e, r.get('set', k)));
    case 'count':
      return r.merge('counter', k, coord.counterAdd(k, o.d));
    case 'prepare':
      return r.paxosPrepare(k, { n: o.n, node: o.node });
    case 'accept':
      return r.paxosAccept(k, { n: o.n, node: o.node }, { v: o.n, ops: [] });
    case 'hint':
      return r.addHint(o.owner, 'kv', k, coord.kvWrite(k, o.value, undefined, 0));
    case 'deliver': {
      const items = r.hintsFor(o.owner);
      return r.clearHints(o.owner, items.slice(0, 1));
    }
  }
}

describe('replica durability', () => {
  it('state survives reopen and compaction unchanged (including appends racing the compaction)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), fc.nat(60), async (ops, compactAt) => {
        const dir = await tempDir();
        const r = await openReplica(dir, { fsync: 'never' });
        const coord = await openReplica('', { storage: 'memory', nodeId: 'c' });
        const work: Array<Promise<unknown>> = [];
        for (let i = 0; i < ops.length; i++) {
          if (i === compactAt) work.push(r.compact());
          work.push(apply(r, coord, ops[i]!));
        }
        await Promise.all(work);
        const before = sortDump(r.dump());
        const hintsBefore = JSON.stringify([r.hintsFor('n2'), r.hintsFor('n3')]);
        await r.close();
        const r2 = await openReplica(dir, { fsync: 'never' });
        expect(sortDump(r2.dump())).toBe(before);
        await r2.compact();
        await r2.close();
        const r3 = await openReplica(dir, { fsync: 'never' });
        expect(sortDump(r3.dump())).toBe(before);
        expect(JSON.stringify([r3.hintsFor('n2'), r3.hintsFor('n3')])).toBe(hintsBefore);
        expect(r3.stats().compactions).toBe(0);
        await r3.close();
        await rm(dir, { recursive: true, force: true });
      }),
      { numRuns: 40 },
    );
  });

  it('a snapshot larger than one write chunk round-trips, with writes continuing meanwhile', async () => {
    const dir = await tempDir();
    const r = await openReplica(dir, { fsync: 'never', conflict: 'lww' });
    const big = 'x'.repeat(300);
    await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        r.merge('kv', `k${i}`, r.kvWrite(`k${i}`, `${i}${big}`, undefined, i)),
      ),
    );
    const compacting = r.compact();
    const during = Array.from({ length: 200 }, (_, i) =>
      r.merge('kv', `k${i}`, r.kvWrite(`k${i}`, `new${i}`, undefined, 10_000 + i)),
    );
    await Promise.all([compacting, ...during]);
    expect(r.stats().compactions).toBe(1);
    const before = sortDump(r.dump());
    await r.close();
    const r2 = await openReplica(dir, { fsync: 'never', conflict: 'lww' });
    expect(sortDump(r2.dump())).toBe(before);
    expect(r2.kvView(r2.get('kv', 'k7')).values).toEqual(['new7']);
  });

  it('compacts by itself when the log outgrows its threshold', async () => {
    const dir = await tempDir();
    const r = await openReplica(dir, { fsync: 'never', compactBytes: 4096 });
    for (let i = 0; i < 300; i++) await r.merge('counter', 'c', r.counterAdd('c', 1));
    await r.close();
    expect(r.stats().compactions).toBeGreaterThan(0);
    const r2 = await openReplica(dir);
    expect(r2.counterView(r2.get('counter', 'c'))).toBe(300);
  });

  it('acceptor state is on disk when a reply resolves (restart = reopen a copy of the dir)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ accept: fc.boolean(), n: fc.nat(8), node: fc.constantFrom('x', 'y') }),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        async (steps) => {
          const dir = await tempDir();
          const r = await openReplica(dir, { conflict: 'lww' });
          // model acceptor
          let promised: Ballot | null = null;
          let accepted: { ballot: Ballot; value: number } | null = null;
          for (const s of steps) {
            const b = { n: s.n, node: s.node };
            const reply = s.accept
              ? await r.paxosAccept('k', b, s.n)
              : await r.paxosPrepare('k', b);
            const ok = promised === null || compareBallots(b, promised) >= 0;
            expect(reply.ok).toBe(ok);
            if (ok) {
              promised = b;
              if (s.accept) accepted = { ballot: b, value: s.n };
            }
            // "crash" right after the reply: copy the dir at once (synchronously, before any
            // other write can land) while the process keeps it open
            const crashed = `${dir}-crash`;
            cpSync(dir, crashed, { recursive: true });
            dirs.push(crashed);
            const after = await openReplica(crashed, { conflict: 'lww' });
            expect(after.paxosRead('k')).toEqual(accepted?.value);
            if (promised) {
              const low = { n: promised.n, node: '' }; // just below what was promised
              const rej = await after.paxosPrepare('k', low);
              expect(rej.ok).toBe(compareBallots(low, promised) >= 0);
            }
            await after.close();
            await rm(crashed, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('memory storage keeps nothing', async () => {
    const dir = join(await tempDir(), 'data');
    const r = await openReplica(dir, { storage: 'memory' });
    await r.merge('kv', 'k', r.kvWrite('k', 1, undefined, 0));
    await r.paxosAccept('p', { n: 1, node: 'x' }, 1);
    await r.addHint('n2', 'kv', 'k', r.kvWrite('k', 2, undefined, 0));
    expect(r.stats().keys).toBe(2);
    await r.close();
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
    const r2 = await openReplica(dir, { storage: 'memory' });
    expect([...r2.dump()]).toEqual([]);
    expect(r2.pendingHints()).toEqual({});
  });

  it('refuses to start on a data dir written in the other conflict mode', async () => {
    const dir = await tempDir();
    const r = await openReplica(dir, { conflict: 'lww' });
    await r.merge('kv', 'k', r.kvWrite('k', 1, undefined, 0));
    await r.close();
    await expect(openReplica(dir, { conflict: 'siblings' })).rejects.toThrow(/--conflict lww/);
  });
});

describe('replica merge and hints', () => {
  it('rejects a state of the wrong kind for the record type or mode', async () => {
    const r = await openReplica('', { storage: 'memory', conflict: 'lww' });
    const s = await openReplica('', { storage: 'memory', conflict: 'siblings' });
    await expect(r.merge('kv', 'k', s.kvWrite('k', 1, undefined, 0))).rejects.toBeInstanceOf(
      ReplicaInputError,
    );
    await expect(r.merge('set', 'k', r.counterAdd('k', 1))).rejects.toThrow(
      /set record takes a orset/,
    );
  });

  it('digests agree across replicas whatever the merge order, and change on change', async () => {
    const [a, b] = await Promise.all([
      openReplica('', { storage: 'memory' }),
      openReplica('', { storage: 'memory', nodeId: 'n2' }),
    ]);
    const w1 = a.setAdd('s', 1);
    const w2 = b.setAdd('s', { y: 2, x: 1 });
    expect(await a.merge('set', 's', w1)).toBe(true);
    const d1 = a.digest('set', 's');
    expect(await a.merge('set', 's', w1)).toBe(false);
    expect(a.digest('set', 's')).toBe(d1);
    await a.merge('set', 's', w2);
    expect(a.digest('set', 's')).not.toBe(d1);
    await b.merge('set', 's', w2);
    await b.merge('set', 's', w1);
    expect(b.digest('set', 's')).toBe(a.digest('set', 's'));
    expect(a.digest('set', 'missing')).toBe('');
  });

  it('hints join per record; delivered hints clear, hints that grew since stay', async () => {
    const dir = await tempDir();
    const r = await openReplica(dir, { conflict: 'lww' });
    await r.addHint('n2', 'kv', 'k', r.kvWrite('k', 1, undefined, 10));
    await r.addHint('n2', 'kv', 'k', r.kvWrite('k', 2, undefined, 20));
    await r.addHint('n3', 'counter', 'c', r.counterAdd('c', 5));
    expect(r.pendingHints()).toEqual({ n2: 1, n3: 1 });
    const items = r.hintsFor('n2');
    expect(r.kvView(items[0]!.state).values).toEqual([2]);
    await r.addHint('n2', 'kv', 'k', r.kvWrite('k', 3, undefined, 30)); // grew in the meantime
    await r.clearHints('n2', items);
    expect(r.pendingHints()).toEqual({ n2: 1, n3: 1 });
    await r.clearHints('n2', r.hintsFor('n2'));
    expect(r.pendingHints()).toEqual({ n3: 1 });
    await r.close();
    const r2 = await openReplica(dir, { conflict: 'lww' });
    expect(r2.pendingHints()).toEqual({ n3: 1 });
    expect(r2.counterView(r2.hintsFor('n3')[0]!.state)).toBe(5);
  });

  it('dump shows views and raw states of every record', async () => {
    const r = await openReplica('', { storage: 'memory', conflict: 'lww' });
    await r.merge('kv', 'k', r.kvWrite('k', 'v', undefined, 5));
    await r.merge('set', 's', r.setAdd('s', 'e'));
    await r.merge('counter', 'c', r.counterAdd('c', -3));
    await r.paxosAccept('l', { n: 1, node: 'x' }, { v: 42, ops: ['a'] });
    const byType = Object.fromEntries([...r.dump()].map((d) => [d.type, d.view]));
    expect(byType).toEqual({
      kv: { values: ['v'], context: '' },
      set: ['e'],
      counter: -3,
      lin: 42,
    });
  });
});

describe('adversarial peers', () => {
  it('schema-valid but hostile states never crash merge, views, digests or reopen', async () => {
    const actor = fc.constantFrom('__proto__', 'constructor', 'a', 'b', '');
    const big = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(Number.MAX_SAFE_INTEGER));
    const dots = fc.array(fc.tuple(actor, big, fc.jsonValue({ maxDepth: 2 })), { maxLength: 5 });
    const ctx = fc.record({
      vv: fc.array(fc.tuple(actor, fc.oneof(fc.nat(5), big)), { maxLength: 4 }),
      cloud: fc.array(fc.tuple(actor, big), { maxLength: 4 }),
    });
    const raw = fc.oneof(
      fc.record({ t: fc.constantFrom('mv', 'orset'), ctx, dots }),
      fc.record({
        t: fc.constant('pn'),
        p: fc.array(fc.tuple(actor, big)),
        n: fc.array(fc.tuple(actor, big)),
      }),
      fc.record({
        t: fc.constant('lww'),
        ts: big,
        node: actor,
        seq: fc.nat(),
        deleted: fc.boolean(),
        value: fc.jsonValue({ maxDepth: 2 }),
      }),
    );
    const dir = await tempDir();
    const r = await openReplica(dir, { fsync: 'never' });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('kv', 'set', 'counter'), raw, async (type, state) => {
        const parsed = RecordItemSchema.safeParse(
          JSON.parse(JSON.stringify({ type, key: 'k', state })),
        );
        if (!parsed.success) return;
        const item = parsed.data;
        try {
          await r.merge(item.type, item.key, item.state);
        } catch (e) {
          expect(e).toBeInstanceOf(ReplicaInputError);
          return;
        }
        const s = r.get(item.type, item.key);
        r.digest(item.type, item.key);
        if (item.type === 'kv') r.kvView(s);
        if (item.type === 'set') r.setView(s);
        if (item.type === 'counter') r.counterView(s);
        expect(Object.prototype).not.toHaveProperty('a');
      }),
      { numRuns: 300 },
    );
    const before = sortDump(r.dump());
    await r.close();
    const r2 = await openReplica(dir, { fsync: 'never' });
    expect(sortDump(r2.dump())).toBe(before);
  });
});

describe('wire schemas', () => {
  it('reject garbage with errors that name the field', () => {
    const bad: Array<[unknown, RegExp]> = [
      [
        {
          type: 'kv',
          key: 'k',
          state: { t: 'lww', ts: -1, node: 'n', seq: 0, deleted: false, value: 1 },
        },
        /ts/,
      ],
      [{ type: 'blob', key: 'k', state: { t: 'pn', p: [], n: [] } }, /type/],
      [
        {
          type: 'set',
          key: 'k',
          state: { t: 'orset', ctx: { vv: [], cloud: [['a', 0]] }, dots: [] },
        },
        /cloud/,
      ],
      [{ type: 'counter', key: 'k', state: { t: 'pn', p: [['a', 1.5]], n: [] } }, /p/],
      [
        {
          type: 'kv',
          key: 'k',
          state: { t: 'mv', ctx: { vv: [], cloud: [] }, dots: [['a', 1, () => 1]] },
        },
        /dots/,
      ],
      [{ type: 'kv', key: 5, state: null }, /key/],
      ['just a string', /object/],
    ];
    for (const [input, field] of bad) {
      const r = RecordItemSchema.safeParse(input);
      expect(r.success).toBe(false);
      if (!r.success) expect(JSON.stringify(r.error.issues)).toMatch(field);
    }
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(
      PaxosRequestSchema.safeParse({
        t: 'accept',
        key: 'k',
        ballot: { n: 1, node: 'x' },
        value: deep,
      }).success,
    ).toBe(false);
    expect(
      PaxosRequestSchema.safeParse({ t: 'prepare', key: 'k', ballot: { n: -1, node: 'x' } })
        .success,
    ).toBe(false);
    expect(
      PaxosRequestSchema.safeParse(
        JSON.parse('{"t":"prepare","key":"k","ballot":{"n":1,"node":"x"}}'),
      ).success,
    ).toBe(true);
  });
});
