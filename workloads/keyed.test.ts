import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leaderless } from '../cluster-images/leaderless/system.js';
import type { Op } from '../core/client.js';
import { Rng } from '../core/random.js';
import { limit, simulate } from '../generators/index.js';
import { WORKLOADS } from './index.js';
import { finalReads, independentKeys, KeyLog } from './keyed.js';

const build = (name: string, options: unknown, concurrency: number, settings = {}) =>
  WORKLOADS.get(name)!.build(options, {
    system: leaderless,
    nodes: ['n1', 'n2', 'n3'],
    concurrency,
    settings,
    rng: new Rng(1),
  });

describe('independent keys', () => {
  it('gives every key at most opsPerKey ops, never returns to a retired key, keeps activeKeys in use', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 30 }),
        fc.nat(),
        (threads, activeKeys, opsPerKey, seed) => {
          const g = independentKeys<Op>({ prefix: 'k', activeKeys, opsPerKey }, (key, n) => ({
            op: { f: 'write', key, value: n },
          }));
          const ops = simulate(limit(400, g), { threads, seed }).map((o) => o.op);
          const perKey = new Map<string, number>();
          const lastSeen = new Map<string, number>();
          ops.forEach((o, i) => {
            perKey.set(String(o.key), (perKey.get(String(o.key)) ?? 0) + 1);
            lastSeen.set(String(o.key), i);
          });
          // Bounded per key.
          for (const n of perKey.values()) expect(n).toBeLessThanOrEqual(opsPerKey);
          // Fresh keys: a key that got its opsPerKey ops never shows up after its last op
          // while keys opened later are used (keys are opened in index order).
          const full = [...perKey].filter(([, n]) => n === opsPerKey).map(([k]) => k);
          for (const k of full) {
            const later = ops.slice((lastSeen.get(k) as number) + 1);
            expect(later.some((o) => o.key === k)).toBe(false);
          }
          // At most activeKeys keys are open at any time: the keys used in any window of ops
          // between one key's first and last op.
          const first = new Map<string, number>();
          ops.forEach((o, i) => {
            if (!first.has(String(o.key))) first.set(String(o.key), i);
          });
          for (let i = 0; i < ops.length; i++) {
            let open = 0;
            for (const [k, f] of first) if (f <= i && (lastSeen.get(k) as number) >= i) open++;
            expect(open).toBeLessThanOrEqual(activeKeys);
          }
          // Values are the run's op count: unique.
          expect(new Set(ops.map((o) => o.value)).size).toBe(ops.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('logs every key used, once; final reads read each of them', () => {
    const log = new KeyLog();
    const g = independentKeys<Op>({ prefix: 's', activeKeys: 2, opsPerKey: 3, log }, (key) => ({
      op: { f: 'add', key },
    }));
    const used = simulate(limit(20, g), { threads: 2, seed: 9 }).map((o) => String(o.op.key));
    const keys = [...log.keys];
    expect(keys).toEqual([...new Set(used)]); // each key once, in order of first use
    expect(keys.length).toBeGreaterThanOrEqual(20 / 3);
    const spread = simulate(
      finalReads(log, { spread: 3 }, (key) => ({ f: 'read', key })),
      {
        threads: 3,
        seed: 1,
      },
    );
    expect(spread.map((r) => r.op.key).sort()).toEqual([...keys].sort());
    const every = simulate(
      finalReads(log, { everyKey: 2 }, (key) => ({ f: 'read', key })),
      {
        threads: 4,
        seed: 1,
      },
    );
    expect(every.length).toBe(2 * keys.length);
    expect(new Set(every.map((r) => r.thread))).toEqual(new Set([0, 1]));
  });
});

describe('workload generators', () => {
  /** The values an op puts in the store: writes, cas targets, set adds (counter deltas repeat). */
  const written = (ops: Op[]) =>
    ops.flatMap((o) =>
      o.f === 'write' || o.f === 'add'
        ? [o.value]
        : o.f === 'cas'
          ? [(o.value as [unknown, unknown])[1]]
          : [],
    );

  for (const [name, prefix, fs] of [
    ['kv', 'k', ['read', 'write', 'cas']],
    ['eventual-kv', 'e', ['read', 'write']],
    ['set', 's', ['add', 'remove', 'read']],
  ] as const) {
    it(`${name}: unique written values, bounded ops per key, only its own functions`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 10 }),
          fc.integer({ min: 1, max: 40 }),
          fc.nat(),
          (threads, opsPerKey, seed) => {
            const options =
              name === 'set' ? { opsPerKey, mix: { add: 2, remove: 1, read: 1 } } : { opsPerKey };
            const w = build(name, options, threads);
            const ops = simulate(limit(500, w.generator), { threads, seed }).map((o) => o.op);
            const values = written(ops);
            expect(new Set(values).size).toBe(values.length);
            const perKey = new Map<string, number>();
            for (const o of ops) perKey.set(String(o.key), (perKey.get(String(o.key)) ?? 0) + 1);
            for (const [k, n] of perKey) {
              expect(k.startsWith(prefix)).toBe(true);
              expect(n).toBeLessThanOrEqual(opsPerKey);
            }
            expect(ops.every((o) => (fs as readonly string[]).includes(o.f))).toBe(true);
          },
        ),
        { numRuns: 30 },
      );
    });
  }

  it('kv: a cas expects null on a fresh key or one of the values written to that key', () => {
    const w = build('kv', { opsPerKey: 20, activeKeys: 2 }, 4);
    const ops = simulate(limit(400, w.generator), { threads: 4, seed: 3 }).map((o) => o.op);
    const writtenTo = new Map<string, Set<unknown>>();
    let cas = 0;
    for (const o of ops) {
      const vals = writtenTo.get(String(o.key)) ?? new Set<unknown>([null]);
      writtenTo.set(String(o.key), vals);
      if (o.f === 'cas') {
        cas++;
        expect(vals.has((o.value as [unknown, unknown])[0])).toBe(true);
        vals.add((o.value as [unknown, unknown])[1]);
      } else if (o.f === 'write') vals.add(o.value);
    }
    expect(cas).toBeGreaterThan(20);
  });

  it('set: removes name an element added to the same key before', () => {
    const w = build('set', { mix: { add: 1, remove: 1, read: 1 } }, 3);
    const ops = simulate(limit(600, w.generator), { threads: 3, seed: 5 }).map((o) => o.op);
    const added = new Map<string, Set<unknown>>();
    let removes = 0;
    for (const o of ops) {
      const s = added.get(String(o.key)) ?? new Set<unknown>();
      added.set(String(o.key), s);
      if (o.f === 'add') s.add(o.value);
      if (o.f === 'remove') {
        removes++;
        expect(s.has(o.value)).toBe(true);
      }
    }
    expect(removes).toBeGreaterThan(50);
  });

  it('counter: integer deltas within ±maxDelta, negative only when asked, on its keys', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(), (negative, seed) => {
        const w = build('counter', { keys: 3, negative, maxDelta: 4 }, 4);
        const ops = simulate(limit(300, w.generator), { threads: 4, seed }).map((o) => o.op);
        const adds = ops.filter((o) => o.f === 'add').map((o) => o.value as number);
        expect(adds.every((d) => Number.isInteger(d) && d !== 0 && Math.abs(d) <= 4)).toBe(true);
        if (negative === 0) expect(adds.every((d) => d > 0)).toBe(true);
        expect(new Set(ops.map((o) => o.key))).toEqual(new Set(['c0', 'c1', 'c2']));
      }),
      { numRuns: 30 },
    );
  });

  it('eventual workloads carry r/w on their ops and read replicas; eventual-kv follows conflict', () => {
    const w = build('eventual-kv', { r: 1, w: 2 }, 2, { conflict: 'siblings' });
    const ops = simulate(limit(50, w.generator), { threads: 2, seed: 1 }).map(
      (o) => o.op as Op & { r?: number; w?: number },
    );
    for (const o of ops) {
      if (o.f === 'read') expect(o).toMatchObject({ r: 1 });
      else expect(o).toMatchObject({ w: 2 });
    }
    expect(w.checkers.map((c) => c.name)).toEqual(['linearizability', 'convergence', 'stats']);
    expect(w.replicaReads).toMatchObject({ boundS: 20, replicasPerKey: 3 });
    expect(build('set', {}, 2).checkers.map((c) => c.name)).toEqual([
      'set-full',
      'convergence',
      'stats',
    ]);
    expect(build('counter', {}, 2).checkers.map((c) => c.name)).toEqual([
      'counter',
      'convergence',
      'stats',
    ]);
    expect(() => build('eventual-kv', { r: 0 }, 2)).toThrow(/workload.options.r/);
  });

  it('eventual workloads run on more nodes than copies when the replica reads name owners', () => {
    // Without owners, a key missing on a node would look lost: such a system is refused.
    const ownerless = {
      ...leaderless,
      clients: Object.fromEntries(
        Object.entries(leaderless.clients).map(([api, c]) => {
          const { keyOwners: _keyOwners, ...rest } = c;
          return [api, rest];
        }),
      ),
    };
    for (const name of ['eventual-kv', 'set', 'counter']) {
      const build = (system: typeof leaderless, nodes: number, settings: Record<string, string>) =>
        WORKLOADS.get(name)!.build(
          {},
          {
            system,
            nodes: Array.from({ length: nodes }, (_, i) => `n${i + 1}`),
            concurrency: 5,
            settings,
            rng: new Rng(1),
          },
        );
      expect(build(leaderless, 5, {}).replicaReads?.replicasPerKey).toBe(3);
      expect(build(leaderless, 5, { n: '5' }).replicaReads?.replicasPerKey).toBe(5);
      expect(() => build(ownerless, 5, {})).toThrow(
        /system leaderless replicates each key to 3 of 5 nodes/,
      );
      expect(build(ownerless, 5, { n: '5' }).replicaReads?.replicasPerKey).toBe(5);
      // A system that claims more copies than there are nodes is refused either way.
      const greedy = { ...leaderless, replicationFactor: () => 4 };
      expect(() => build(greedy, 3, {})).toThrow(
        /replicates each key to 4 nodes with these settings, and the run has 3/,
      );
    }
  });

  it('a workload is refused when the system lacks its client API, naming both', () => {
    const only = { ...leaderless, clients: { kv: leaderless.clients.kv! } };
    const ctx = { system: only, nodes: ['n1', 'n2', 'n3'], concurrency: 2, rng: new Rng(1) };
    expect(() => WORKLOADS.get('register')!.build({}, ctx)).toThrow(
      /the register workload needs the register client API; system leaderless does not offer it \(it offers: kv\)/,
    );
    expect(() => WORKLOADS.get('set')!.build({}, ctx)).toThrow(/needs the set client API/);
    expect(() => WORKLOADS.get('eventual-kv')!.build({}, ctx)).toThrow(
      /needs the replica-kv client API/,
    );
  });

  it('the replication factor and the conflict mode come from the system, not from setting names', async () => {
    const kv = leaderless.clients.kv!;
    const system = {
      ...leaderless,
      // A system whose own setting is called `copies`, and whose kv API keeps siblings.
      replicationFactor: (s: Readonly<Record<string, string>>) => Number(s.copies ?? 1),
      // Its replica reads name no owners: every node must hold every key.
      clients: {
        ...leaderless.clients,
        kv: { ...kv, conflict: () => 'siblings' as const },
        'replica-kv': { ...leaderless.clients['replica-kv']!, keyOwners: false },
      },
    };
    const ctx = (settings: Record<string, string>) => ({
      system,
      nodes: ['n1', 'n2'],
      concurrency: 2,
      settings,
      rng: new Rng(1),
    });
    expect(() => WORKLOADS.get('eventual-kv')!.build({}, ctx({ n: '2' }))).toThrow(/1 of 2 nodes/);
    const w = WORKLOADS.get('eventual-kv')!.build({}, ctx({ copies: '2' }));
    expect(w.replicaReads?.replicasPerKey).toBe(2);
    const convergence = w.checkers.find((c) => c.name === 'convergence')!;
    const report = await convergence.check({ events: [], ops: [] });
    expect(report.result.type).toBe('siblings');
  });
});
