import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processAlive } from '../../../core/process.js';
import { Rng } from '../../../core/random.js';
import {
  healAllRecorded,
  type NemesisEvent,
  planFaults,
  runNemesis,
  unsupportedFaults,
} from '../../../nemesis/index.js';
import { StandinClient, standinRecipe } from '../../testing/standin.js';
import { createLocalBackend, type LocalCluster } from '../local-backend.js';
import { processesOfRun } from '../registry.js';

const NODES = ['n1', 'n2', 'n3'];

describe('a planned nemesis carried out on the local backend', () => {
  it('applies every fault of the plan, records it, heals, and leaves no process', async () => {
    const backend = createLocalBackend();
    const spec = { faults: ['partition', 'kill', 'pause', 'link'] as const, interval: 0.5 };
    const faults = { ...spec, faults: [...spec.faults] };
    expect(unsupportedFaults(faults, backend)).toEqual([]);
    expect(unsupportedFaults({ faults: ['clock'] }, backend)[0]).toMatch(
      /local backend cannot do the clock fault/,
    );

    const plan = planFaults(faults, NODES, new Rng(2024).fork('nemesis'), 4000);
    const kinds = new Set(plan.entries.map((e) => e.fault.kind));
    expect([...kinds].sort()).toEqual(['kill', 'link', 'partition', 'pause']);

    const logsDir = mkdtempSync(join(tmpdir(), 'faultline-nemesis-logs-'));
    const runId = `nemesis-local-${process.pid}-${Date.now()}`;
    const cluster = (await backend.createCluster({
      runId,
      recipe: standinRecipe(),
      nodes: NODES,
      settings: {},
      logsDir,
      startTimeoutMs: 20_000,
    })) as LocalCluster;
    const pids: number[] = [];
    try {
      pids.push(...cluster.pids());
      const start = process.hrtime.bigint();
      const events: NemesisEvent[] = [];
      /** What the cluster looked like right after each event: checks each primitive took effect. */
      const observed: string[] = [];
      const io = {
        record: (e: NemesisEvent) => {
          events.push(e);
          pids.push(...cluster.pids());
          if (e.f === 'partition-start') {
            observed.push(
              JSON.stringify(cluster.currentGrudge()) === JSON.stringify(e.value)
                ? 'cut'
                : 'not cut',
            );
          }
          if (e.f === 'kill') {
            const nodes = e.value as string[];
            observed.push(nodes.every((n) => cluster.pid(n) === undefined) ? 'killed' : 'alive');
          }
        },
        now: () => Number(process.hrtime.bigint() - start),
        signal: new AbortController().signal,
      };
      const outcome = await runNemesis(plan, cluster, io);
      expect(outcome).toEqual({
        started: plan.entries.length,
        stopped: plan.entries.length,
        aborted: false,
      });
      expect(events.filter((e) => e.error !== undefined)).toEqual([]);
      expect(events).toHaveLength(2 * plan.entries.length);
      expect(observed.every((o) => o === 'cut' || o === 'killed')).toBe(true);
      await healAllRecorded(cluster, io);
      expect(events.at(-1)?.f).toBe('heal');
      for (const n of NODES) {
        expect((await new StandinClient(cluster.clientAddress(n)).health()).id).toBe(n);
      }
      // Logs append across restarts: a killed node's stdout shows each start.
      const killed = plan.entries.flatMap((e) => (e.fault.kind === 'kill' ? e.fault.nodes : []));
      for (const n of new Set(killed)) {
        const starts = readFileSync(join(logsDir, n, 'stdout.log'), 'utf8').match(
          /faultline: starting/g,
        );
        expect(starts?.length ?? 0).toBeGreaterThan(1);
      }
    } finally {
      await cluster.teardown();
      rmSync(logsDir, { recursive: true, force: true });
    }
    expect(processesOfRun(runId)).toEqual([]);
    expect(pids.filter(processAlive)).toEqual([]);
  });
});
