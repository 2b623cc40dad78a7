import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eRun } from '../../../test/e2e-run.js';
import { INVENTORY_ENV } from '../from-env.js';
import { loadInventory } from '../inventory.js';
import { leftoversOnHosts } from '../ssh-backend.js';
import { testbed } from './testbed.js';

const bed = testbed('e2e', '10.231.12', 3);
const out = mkdtempSync(join(tmpdir(), 'faultline-e2e-ssh-'));
let inventoryFile = '';

beforeAll(() => {
  inventoryFile = bed.up();
  // The registry's ssh backend reads its inventory from here, as `--inventory` sets it.
  process.env[INVENTORY_ENV] = inventoryFile;
}, 120_000);
afterAll(() => {
  delete process.env[INVENTORY_ENV];
  rmSync(out, { recursive: true, force: true });
  bed.down();
}, 60_000);

describe('end to end: register workload on the leaderless store, ssh backend', () => {
  it('runs partitions, kills, pauses and clock faults on sshd hosts to a valid verdict, leaving nothing', async () => {
    // CASPaxos registers with the store's safe settings stay linearizable through kills,
    // pauses and partitions, and clocks play no part in its ballots: valid is the one verdict.
    // (e2eRun checks the store is built, results.json against the outcome, and a history read
    // without warnings.)
    const run = await e2eRun({
      name: 'e2e-register-ssh',
      backend: 'ssh',
      workload: { name: 'register', options: { keys: 2 } },
      nemesis: { faults: ['partition', 'kill', 'pause', 'clock'], interval: 1.5 },
      concurrency: 4,
      rate: 100,
      timeLimit: 10,
      recovery: 1,
      opTimeout: 1,
      seed: 17,
      out,
      settings: { storage: 'disk', fsync: 'always' },
    });
    const r = run.outcome;
    const lin = run.results.checkers.linearizability;
    expect(lin?.valid, JSON.stringify(lin).slice(0, 2000)).toBe(true);
    expect(r.valid).toBe(true);
    expect(run.results.ops).toBeGreaterThan(50);

    expect(run.test).toMatchObject({ seed: 17, status: 'complete' });
    // Node logs streamed from the hosts into the results folder.
    expect(readdirSync(join(r.dir, 'nodes')).sort()).toEqual(['n1', 'n2', 'n3']);
    for (const n of ['n1', 'n2', 'n3']) {
      const log = readFileSync(join(r.dir, 'nodes', n, 'stdout.log'), 'utf8');
      expect(log).toMatch(/faultline: starting/);
      expect(statSync(join(r.dir, 'nodes', n, 'stdout.log')).size).toBeGreaterThan(200);
    }

    const nemesis = run.events.filter((e) => e.process === 'nemesis');
    const fs = new Set(nemesis.map((e) => e.f));
    for (const f of [
      'partition-start',
      'partition-stop',
      'kill',
      'start',
      'pause',
      'resume',
      'clock-offset',
      'clock-reset',
    ]) {
      expect(fs.has(f), f).toBe(true);
    }
    const failed = nemesis.filter((e) => (e as { error?: string }).error !== undefined);
    expect(failed, JSON.stringify(failed)).toEqual([]);

    // No process, chain or folder of the run on any host.
    const left = await leftoversOnHosts(loadInventory(inventoryFile), run.test.runId);
    expect(left, left.join('; ')).toEqual([]);
  }, 120_000);
});
