import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRunDeps } from '../api/registries.js';
import { canScanProcesses, processesOfRun } from '../backends/local/registry.js';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import { readResults } from '../checker/results.js';
import { leaderlessBinary } from '../cluster-images/leaderless/system.js';
import { runTest } from '../harness/runner.js';
import { parseSpec, resolveSpec } from '../harness/spec.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-e2e-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('end to end: register workload on the leaderless store, local backend', () => {
  it('runs a seeded chaos run to a verdict with a complete results folder and no leftovers', async () => {
    expect(existsSync(leaderlessBinary()), 'build the store first: npm run build').toBe(true);
    // Every asked-for fault kind comes first in the plan, so 12 s at this interval holds all three.
    const spec = resolveSpec(
      parseSpec({
        name: 'e2e-register',
        nodes: 5,
        workload: { name: 'register', options: { keys: 3 } },
        nemesis: { faults: ['partition', 'kill', 'pause'], interval: 2.5 },
        concurrency: 6,
        rate: 150,
        timeLimit: 12,
        recovery: 1,
        opTimeout: 1,
        seed: 3,
        out,
        settings: { fsync: 'always' },
      }),
      () => 0,
    );
    const r = await runTest(spec, defaultRunDeps());

    // CASPaxos registers with fsync always stay linearizable through partitions, kills and
    // pauses (cluster-images/leaderless/README.md): the run must be valid, every fault done.
    expect(r.reasons).toEqual([]);
    expect(r.verdict).toBe('valid');
    expect(r.checkers.find((c) => c.name === 'linearizability')?.valid).toBe(true);
    const results = await readResults(join(r.dir, 'results.json'));
    expect(results.valid).toBe(true);
    expect(results.run).toEqual({ status: 'complete', verdict: 'valid', reasons: [] });
    const lin = results.checkers.linearizability!;
    expect(lin.model).toBe('kv');
    expect(results.ops).toBeGreaterThan(100);

    // The folder.
    for (const f of [
      'test.json',
      'history.jsonl',
      'results.json',
      'timeline.html',
      'latency.svg',
      'rate.svg',
    ]) {
      expect(existsSync(join(r.dir, f)), f).toBe(true);
    }
    const test = JSON.parse(readFileSync(join(r.dir, 'test.json'), 'utf8'));
    expect(test).toMatchObject({
      seed: 3,
      status: 'complete',
      check: { model: 'kv', initial: null },
    });
    const planned = new Set(
      test.plan.entries.map((e: { fault: { kind: string } }) => e.fault.kind),
    );
    expect([...planned].sort()).toEqual(['kill', 'partition', 'pause']);
    expect(readdirSync(join(r.dir, 'nodes')).sort()).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(statSync(join(r.dir, 'nodes', 'n1', 'stdout.log')).size).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'latest', 'test.json'), 'utf8')).toContain(test.runId);

    // The history: every fault carried out, healed, then final reads of every key.
    const { events, warnings } = await readJsonlHistory(join(r.dir, 'history.jsonl'));
    expect(warnings).toEqual([]);
    const fs = events.filter((e) => e.process === 'nemesis').map((e) => e.f);
    for (const f of [
      'partition-start',
      'partition-stop',
      'kill',
      'start',
      'pause',
      'resume',
      'heal-all-stop',
    ]) {
      expect(fs, f).toContain(f);
    }
    const healed = events.find((e) => e.f === 'heal-all-stop')!;
    const finalReads = events.filter(
      (e) => e.index > healed.index && e.type === 'ok' && e.f === 'read',
    );
    expect(new Set(finalReads.map((e) => e.key))).toEqual(new Set(['r0', 'r1', 'r2']));

    // Nothing left running.
    if (canScanProcesses()) expect(processesOfRun(test.runId)).toEqual([]);
  }, 90_000);
});
