import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import type { Client, ClientFactory, Op } from '../core/client.js';
import { ErrorRegistry } from '../core/client.js';
import { ops } from '../generators/index.js';
import type { RunDeps } from '../harness/runner.js';
import { runTest } from '../harness/runner.js';
import { parseSpec, resolveSpec } from '../harness/spec.js';
import {
  fakeBackend,
  fakeClientFactory,
  fakeNemesis,
  fakeWorld,
} from '../harness/testing/fakes.js';
import { statsChecker } from '../workloads/checkers.js';
import { registerWorkload } from '../workloads/index.js';

/**
 * The runner's final convergence phase and verdict composition, on the in-memory fakes: a
 * workload that asks for replica reads gets every node read in rounds after the heal (recorded
 * as client ops), and a checker that throws yields an "unknown" verdict, not a crashed run.
 */
const out = mkdtempSync(join(tmpdir(), 'faultline-runner-replicas-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function replicaReader(registers: Map<string, unknown>): ClientFactory<Op> {
  return {
    errors: new ErrorRegistry([]),
    open(): Client<Op> {
      return {
        async invoke(op) {
          const keys = Object.fromEntries(
            [...registers].map(([k, v]) => [k, { values: v === null ? [] : [v] }]),
          );
          return { value: { ...(op.value as object), keys } };
        },
        async close() {},
      };
    },
  };
}

describe('runner: final replica reads and verdicts', () => {
  it('reads every replica in rounds after the heal; a throwing checker makes the verdict unknown', async () => {
    const world = fakeWorld();
    const workload = registerWorkload({
      name: 'fake-eventual',
      description: 'writes, then replica reads',
      options: z.object({}).strict(),
      build: (_o, ctx) => ({
        generator: ops((c) => ({ f: 'write', key: 'k1', value: c.rng.int(1, 1e9) })),
        client: ctx.system.clients.register!,
        checkers: [
          {
            name: 'broken',
            async check() {
              throw new Error('state at history index 7: bad shape');
            },
          },
          statsChecker,
        ],
        replicaReads: {
          client: ctx.system.clients['replica-kv']!,
          boundS: 10,
          replicasPerKey: 3,
        },
      }),
    });
    const deps: RunDeps = {
      backends: new Map([['fake', () => fakeBackend(world)]]),
      systems: new Map([
        [
          'fake',
          {
            name: 'fake',
            recipe: () => ({
              name: 'fake',
              clockFaults: false,
              launch: () => ({ command: 'true', args: [], env: {} }),
              healthy: async () => true,
            }),
            clients: {
              register: fakeClientFactory(world),
              'replica-kv': replicaReader(world.registers),
            },
          },
        ],
      ]),
      workloads: new Map([['fake-eventual', workload]]),
      nemesis: fakeNemesis(world),
    };
    const spec = resolveSpec(
      parseSpec({
        name: 'fake-eventual',
        system: 'fake',
        backend: 'fake',
        nodes: 3,
        concurrency: 4,
        rate: 200,
        timeLimit: 0.5,
        recovery: 0,
        opTimeout: 0.5,
        seed: 1,
        out,
        workload: { name: 'fake-eventual' },
        nemesis: { faults: ['kill'] },
      }),
      () => 1,
    );
    const r = await runTest(spec, deps);

    const { events } = await readJsonlHistory(join(r.dir, 'history.jsonl'));
    const heal = events.find((e) => e.f === 'heal-all-stop')!;
    const reads = events.filter((e) => e.f === 'replica-read');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((e) => e.index > heal.index)).toBe(true);
    const oks = reads.filter((e) => e.type === 'ok');
    // Two agreeing rounds end the phase (the fake's replicas always agree).
    expect(oks.map((e) => `${e.node}/${(e.value as { round: number }).round}`).sort()).toEqual([
      'n1/1',
      'n1/2',
      'n2/1',
      'n2/2',
      'n3/1',
      'n3/2',
    ]);
    expect((oks[0]!.value as { keys: object }).keys).toHaveProperty('k1');
    // Replica readers use process ids no client used.
    const clientProcesses = new Set(events.filter((e) => e.f === 'write').map((e) => e.process));
    expect(reads.some((e) => clientProcesses.has(e.process))).toBe(false);

    // The broken checker: unknown, with a sentence; the run's verdict is unknown (beats true).
    expect(r.results.checkers.broken).toMatchObject({
      valid: 'unknown',
      summary: [expect.stringMatching(/broken checker could not judge .*bad shape/)],
    });
    expect(r.results.checkers.stats?.valid).toBe(true);
    expect(r.valid).toBe('unknown');
    expect(r.results.warnings.some((w) => /bad shape/.test(w))).toBe(true);
  }, 30_000);
});
