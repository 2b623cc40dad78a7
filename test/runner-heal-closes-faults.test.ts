import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import { nemesisIntervals } from '../checker/timeline/index.js';
import type { NemesisDriver } from '../core/nemesis.js';
import type { Progress, RunDeps } from '../harness/runner.js';
import { runTest } from '../harness/runner.js';
import { parseSpec, resolveSpec } from '../harness/spec.js';
import { fakeBackend, fakeSystem, fakeWorld } from '../harness/testing/fakes.js';
import { WORKLOADS } from '../workloads/index.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-heal-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A nemesis that skews a clock and is stopped (the time limit) before it resets it. */
const clockLeftOpen: NemesisDriver = {
  requiredCapabilities: () => [],
  plan: () => ({}),
  async run(_plan, _cluster, io) {
    io.record({ process: 'nemesis', type: 'info', f: 'clock-offset', value: { n1: 5000 } });
    await new Promise<void>((r) => io.signal.addEventListener('abort', () => r(), { once: true }));
  },
};

describe('the heal closes the faults the nemesis left open', () => {
  it('a clock offset still in effect at the heal: its interval ends, the progress line clears', async () => {
    const world = fakeWorld();
    const deps: RunDeps = {
      backends: new Map([['fake', () => fakeBackend(world)]]),
      systems: new Map([['fake', fakeSystem(world)]]),
      workloads: WORKLOADS,
      nemesis: clockLeftOpen,
    };
    const spec = resolveSpec(
      parseSpec({
        name: 'heal-clock',
        system: 'fake',
        backend: 'fake',
        nodes: 3,
        concurrency: 2,
        rate: 100,
        timeLimit: 0.3,
        recovery: 0,
        opTimeout: 0.2,
        seed: 1,
        out,
        nemesis: { faults: ['kill'] },
      }),
      () => 1,
    );
    let last: Progress | undefined;
    const r = await runTest(spec, deps, { onProgress: (p) => (last = p) });
    const { events } = await readJsonlHistory(join(r.dir, 'history.jsonl'));
    const fs = events.filter((e) => e.process === 'nemesis').map((e) => e.f);
    expect(fs).toEqual(['clock-offset', 'heal-all-start', 'clock-reset', 'heal-all-stop']);
    const clock = nemesisIntervals(events).find((iv) => iv.kind === 'clock');
    const healStop = events.find((e) => e.f === 'heal-all-stop')!;
    expect(clock?.end).toBeLessThanOrEqual(healStop.time);
    expect(last?.faults).toBe('');
  });
});
