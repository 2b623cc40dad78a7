import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulateStore } from '../../checker/elle/testing/store-sim.js';
import { leaderless } from '../../cluster-images/leaderless/system.js';
import { CLIENT_APIS, type ClientApi, type ClientFactory } from '../../core/client.js';
import { Rng } from '../../core/random.js';
import { defineSystem } from '../../core/system.js';
import { limit, simulate } from '../../generators/index.js';
import { WORKLOADS } from '../index.js';
import { elleChecker } from './checker.js';
import type { MicroOp } from './generator.js';

const fakeTxnClient: ClientFactory = {
  open: () => ({ invoke: async () => ({}), close: async () => {} }),
  errors: leaderless.clients.kv!.errors,
};
const system = {
  ...leaderless,
  clients: { ...leaderless.clients, 'list-append': fakeTxnClient, 'rw-register': fakeTxnClient },
};

const build = (name: string, options: unknown, concurrency = 4) =>
  WORKLOADS.get(name)!.build(options, {
    system,
    nodes: ['n1', 'n2', 'n3'],
    concurrency,
    rng: new Rng(1),
  });

describe('list-append and rw-register workloads', () => {
  it('make txns of unique writes over the active keys, within the length asked', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('list-append', 'rw-register'),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        (name, threads, keys, maxTxnLength, seed) => {
          const w = build(name, { keys, maxTxnLength, rotateAfter: 1000 }, threads);
          const txns = simulate(limit(300, w.generator), { threads, seed }).map(
            (o) => o.op.value as MicroOp[],
          );
          const writes = txns.flat().filter((m) => m[0] !== 'r');
          expect(new Set(writes.map((m) => m[2])).size).toBe(writes.length);
          expect(writes.every((m) => m[0] === (name === 'list-append' ? 'append' : 'w'))).toBe(
            true,
          );
          const slots = new Set(txns.flat().map((m) => m[1]));
          expect(slots.size).toBeLessThanOrEqual(keys);
          expect(txns.every((t) => t.length >= 1 && t.length <= maxTxnLength)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('moves on to fresh keys, reading every key it leaves behind', () => {
    const w = build('list-append', { keys: 2, rotateAfter: 3 }, 1);
    const txns = simulate(limit(8, w.generator), { threads: 1, seed: 3 }).map(
      (o) => o.op.value as MicroOp[],
    );
    expect(txns[3]).toEqual([
      ['r', '0-0', null],
      ['r', '0-1', null],
    ]);
    expect(txns[4]!.every((m) => m[1].startsWith('1-'))).toBe(true);
    expect(txns[6]!.map((m) => m[1])).toEqual(['1-0', '1-1']);
    expect(txns[7]!.every((m) => m[1].startsWith('2-'))).toBe(true);
  });

  it('refuses bad options and a system without the txn client', () => {
    expect(() => build('list-append', { consistencyModels: ['acid'] })).toThrow(
      /consistencyModels.0: unknown model/,
    );
    expect(() => build('rw-register', { minTxnLength: 5, maxTxnLength: 2 })).toThrow(
      /minTxnLength must not exceed maxTxnLength/,
    );
    expect(() =>
      WORKLOADS.get('list-append')!.build(
        {},
        { system: leaderless, nodes: ['n1'], concurrency: 1, rng: new Rng(1) },
      ),
    ).toThrow(/needs the list-append client API/);
  });

  it('take the txn client APIs of a user-defined system, and refuse one without them', () => {
    const txnApis: ClientApi[] = ['list-append', 'rw-register'];
    expect(CLIENT_APIS).toEqual(expect.arrayContaining(txnApis));
    const userSystem = (clients: Partial<Record<ClientApi, ClientFactory>>) =>
      defineSystem({
        name: 'my-db',
        local: { launch: () => ({ command: '/bin/true', args: [], env: {} }) },
        healthy: async () => true,
        clients,
      });
    const ctx = (s: ReturnType<typeof userSystem>) => ({
      system: s,
      nodes: ['n1'],
      concurrency: 1,
      rng: new Rng(1),
    });
    const withTxn = userSystem({ 'list-append': fakeTxnClient, 'rw-register': fakeTxnClient });
    for (const name of txnApis) {
      expect(WORKLOADS.get(name)!.build({}, ctx(withTxn)).client).toBe(fakeTxnClient);
    }
    const without = userSystem({ register: leaderless.clients.register! });
    for (const name of txnApis) {
      expect(() => WORKLOADS.get(name)!.build({}, ctx(without))).toThrow(
        `the ${name} workload needs the ${name} client API; system my-db does not offer it (it offers: register)`,
      );
    }
  });

  it('checks the history for the models asked', async () => {
    const events = simulateStore({
      workload: 'list-append',
      isolation: 'snapshot',
      seed: 5,
      txns: 200,
    });
    const strict = await elleChecker('list-append', ['strict-serializable']).check({
      events,
      ops: [],
    });
    expect(strict.result.valid).toBe(false);
    expect(strict.result.anomalyTypes).toContain('G2-item');
    const si = await elleChecker('list-append', ['snapshot-isolation']).check({ events, ops: [] });
    expect(si.result.valid).toBe(true);
  });
});
