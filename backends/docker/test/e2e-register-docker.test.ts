import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRunDeps } from '../../../api/registries.js';
import { readJsonlHistory } from '../../../checker/history/jsonl.js';
import { readResults } from '../../../checker/results.js';
import { leaderlessBinary } from '../../../cluster-images/leaderless/system.js';
import { runTest } from '../../../harness/runner.js';
import { parseSpec, resolveSpec } from '../../../harness/spec.js';
import { connectDocker } from '../engine.js';
import { describeObjectsOfRun } from '../labels.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-e2e-docker-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('end to end: register workload on the leaderless store, docker backend', () => {
  it('runs partitions, kills, pauses and clock faults to a verdict, leaving no container or network', async () => {
    expect(existsSync(leaderlessBinary()), 'build the store first: npm run build').toBe(true);
    const docker = await connectDocker();
    // Seed 17 plans kill, pause, clock and partition in the first 5 s of the 10 (then more):
    // slack for a slow restart on a busy machine. The store's safe settings for /lin (disk,
    // fsync always: its defaults, spelled out): CASPaxos registers are linearizable through
    // kills, pauses and partitions (cluster-images/leaderless/README.md), and clocks play no
    // part in Paxos ballots, so the one verdict the run may have is valid.
    const spec = resolveSpec(
      parseSpec({
        name: 'e2e-register-docker',
        backend: 'docker',
        nodes: 3,
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
      }),
      () => 0,
    );
    const r = await runTest(spec, defaultRunDeps());

    // Valid, from the linearizability checker over every key.
    const results = await readResults(join(r.dir, 'results.json'));
    const lin = results.checkers.linearizability;
    expect(lin?.valid, JSON.stringify(lin).slice(0, 2000)).toBe(true);
    expect(r.valid).toBe(true);
    expect(results.valid).toBe(true);
    expect(results.ops).toBeGreaterThan(50);

    for (const f of ['test.json', 'history.jsonl', 'results.json', 'timeline.html']) {
      expect(existsSync(join(r.dir, f)), f).toBe(true);
    }
    const test = JSON.parse(readFileSync(join(r.dir, 'test.json'), 'utf8'));
    expect(test).toMatchObject({ seed: 17, status: 'complete' });
    // Node logs, streamed from the containers: the store prints as it starts.
    expect(readdirSync(join(r.dir, 'nodes')).sort()).toEqual(['n1', 'n2', 'n3']);
    for (const n of ['n1', 'n2', 'n3']) {
      const log = join(r.dir, 'nodes', n, 'stdout.log');
      expect(statSync(log).size).toBeGreaterThan(0);
    }

    // Every kind of fault was carried out without a backend error, then healed.
    const { events, warnings } = await readJsonlHistory(join(r.dir, 'history.jsonl'));
    expect(warnings).toEqual([]);
    const nemesis = events.filter((e) => e.process === 'nemesis');
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
    expect(nemesis.filter((e) => (e as { error?: string }).error !== undefined)).toEqual([]);

    // Nothing left behind: no container (running or not) and no network of this run, found
    // by label and by name (other runs may be going on at the same time).
    expect(await describeObjectsOfRun(docker, test.runId)).toEqual([]);
    const names = [
      ...(await docker.listContainers({ all: true })).flatMap((c) => c.Names),
      ...(await docker.listNetworks()).map((n) => n.Name),
    ];
    expect(names.filter((n) => n.includes(test.runId))).toEqual([]);
  }, 120_000);
});
