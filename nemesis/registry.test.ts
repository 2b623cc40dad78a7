import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import {
  classifyFaultEvent,
  closingEventFor,
  nemesisIntervals,
  renderTimeline,
} from '../checker/timeline/index.js';
import type { Capability } from '../core/cluster.js';
import { defineFaultKind } from '../core/nemesis.js';
import { Rng } from '../core/random.js';
import { latencySvg } from '../harness/plots.js';
import { Recorder } from '../harness/recorder.js';
import { healStage } from '../harness/run/heal.js';
import { RunSession } from '../harness/run/session.js';
import { runTest } from '../harness/runner.js';
import { parseSpec, resolveSpec } from '../harness/spec.js';
import { fakeBackend, fakeSystem, fakeWorld } from '../harness/testing/fakes.js';
import { WORKLOADS } from '../workloads/index.js';
import { auditFaults } from './audit.js';
import { type NemesisEvent, runNemesis } from './executor.js';
import { createNemesis } from './index.js';
import {
  BUILTIN_FAULT_KINDS,
  BUILTIN_FAULT_STYLES,
  BUILTIN_KINDS,
  onEachNode,
} from './kinds/index.js';
import { describeFault, planFaults, unsupportedFaults } from './plan.js';
import { type AnyFaultKind, createFaultKinds, parseSpecWith } from './registry.js';

/**
 * A fault kind that is not faultline's, written here and nowhere else: pause every node but
 * `spare` of them (drawn from the rng), on the existing pause/resume primitives, with event
 * names no reader knows without the kind's table.
 */
const pauseAll = defineFaultKind({
  name: 'pause-all',
  settings: {
    pauseAll: z.strictObject({ spare: z.number().int().min(0).default(0) }).default({ spare: 0 }),
  },
  fault: { nodes: z.array(z.string()) },
  capabilities: () => ['pause'],
  plan(s, nodes, rng) {
    const spared = new Set(rng.shuffle(nodes).slice(0, s.pauseAll.spare));
    return { nodes: nodes.filter((n) => !spared.has(n)) };
  },
  describe: (f) => `pause all of ${f.nodes.join(',')}`,
  start: (f) => ({ value: f.nodes, act: (c) => onEachNode(f.nodes, (n) => c.pause(n)) }),
  stop: (f) => ({ value: f.nodes, act: (c) => onEachNode(f.nodes, (n) => c.resume(n)) }),
  events: { open: 'freeze-all', close: 'thaw-all' },
  style: { label: 'pause all', colour: '#123456' },
});

const KINDS = createFaultKinds([...BUILTIN_KINDS, pauseAll]);
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

function historyOf(events: NemesisEvent[]): HistoryEvent[] {
  return events.map((e, index) => ({ ...e, index, time: e.startedTime }));
}

describe('a fault kind added as one value', () => {
  const spec = {
    faults: ['pause-all' as const, 'kill' as const],
    pauseAll: { spare: 2 },
    faultDuration: [0.01, 0.01] as [number, number],
    quiet: [0, 0] as [number, number],
    initialQuiet: 0,
  };

  it('its setting is part of the spec (defaults too); the builtin registry does not know it', () => {
    expect(parseSpecWith(KINDS, { faults: ['pause-all'] }).pauseAll).toEqual({ spare: 0 });
    expect(parseSpecWith(KINDS, spec).pauseAll).toEqual({ spare: 2 });
    expect(() => parseSpecWith(KINDS, { pauseAll: { spare: -1 } })).toThrow(
      /nemesis\.pauseAll\.spare/,
    );
    // The builtin kinds' own settings are all still there.
    expect(parseSpecWith(KINDS, {}).clockOffsetMs).toBe(60_000);
    expect(() => parseSpecWith(BUILTIN_FAULT_KINDS, { faults: ['pause-all'] })).toThrow(
      /nemesis\.faults\.0/,
    );
    expect(() => parseSpecWith(BUILTIN_FAULT_KINDS, { pauseAll: {} })).toThrow(/pauseAll/);
  });

  it('is planned, checked against the backend, described, run, audited, read and drawn', async () => {
    const driver = createNemesis(KINDS);
    expect(driver.requiredCapabilities(spec)).toEqual(['pause', 'kill']);
    const killOnly = { name: 'killer', capabilities: new Set<Capability>(['kill']) };
    expect(unsupportedFaults(spec, killOnly, undefined, KINDS)).toEqual([
      'the killer backend cannot do the pause-all (pause) fault (it can: kill)',
    ]);

    // Planned: the first two faults are one of each asked kind; pause-all spares two nodes.
    const plan = planFaults(spec, NODES, new Rng(5), 50, KINDS);
    expect(KINDS.faultPlanSchema.parse(plan)).toEqual(plan);
    expect(driver.plan(spec, NODES, new Rng(5), 50)).toEqual(plan);
    expect(plan.entries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(plan.entries.slice(0, 2).map((e) => e.fault.kind))).toEqual(
      new Set(['pause-all', 'kill']),
    );
    const entry = plan.entries.find((e) => e.fault.kind === 'pause-all')!;
    const paused = (entry.fault as { nodes: string[] }).nodes;
    expect(paused).toHaveLength(3);
    expect(describeFault(entry.fault, KINDS)).toBe(`pause all of ${paused.join(',')}`);

    // Run against the harness's fake cluster: its primitives are called, its events recorded.
    const world = fakeWorld();
    const cluster = await fakeBackend(world, ['pause', 'kill']).createCluster({
      runId: 'pause-all',
      recipe: {
        name: 'x',
        clockFaults: false,
        launch: () => ({ command: '', args: [], env: {} }),
        healthy: async () => true,
      },
      nodes: NODES,
      settings: {},
      logsDir: '/nonexistent',
      startTimeoutMs: 1000,
    });
    const recorded: NemesisEvent[] = [];
    const t0 = process.hrtime.bigint();
    const io = {
      record: (e: NemesisEvent) => recorded.push(e),
      now: () => Number(process.hrtime.bigint() - t0),
      signal: new AbortController().signal,
    };
    await runNemesis(plan, cluster, io, KINDS);
    const mine = recorded.filter((e) => e.fault === entry.index);
    expect(mine.map((e) => [e.f, e.value, e.error])).toEqual([
      ['freeze-all', paused, undefined],
      ['thaw-all', paused, undefined],
    ]);
    for (const n of paused) {
      expect(world.calls).toContain(`pause ${n}`);
      expect(world.calls).toContain(`resume ${n}`);
    }

    // Audited: complete; without its start event, the missing fault is named and described.
    expect(auditFaults(plan, recorded, KINDS)).toEqual([]);
    const noStart = recorded.filter((e) => e.f !== 'freeze-all');
    expect(auditFaults(plan, noStart, KINDS)).toEqual([
      expect.stringContaining(`pause all of ${paused.join(',')}`),
    ]);

    // Read: the driver's table pairs its events; without it they are one-off marks.
    const styles = driver.kinds;
    expect(classifyFaultEvent('freeze-all', () => false, styles)).toEqual({
      kind: 'pause-all',
      edge: 'open',
    });
    expect(closingEventFor('freeze-all', styles)).toBe('thaw-all');
    const history = historyOf(recorded);
    const intervals = nemesisIntervals(history, styles).filter((iv) => iv.kind === 'pause-all');
    expect(intervals).toHaveLength(plan.entries.filter((e) => e.fault.kind === 'pause-all').length);
    expect(intervals.every((iv) => iv.interval && Number.isFinite(iv.end))).toBe(true);
    expect(nemesisIntervals(history).find((iv) => iv.kind === 'pause-all')).toBeUndefined();

    // Drawn: shaded in its colour and named in the legends of the plot and the timeline.
    const ops: ClientOp[] = [];
    const svg = latencySvg('t', ops, history, styles);
    expect(svg).toMatch(/<rect [^>]*fill="#123456"[^>]*><title>freeze-all<\/title>/);
    expect(svg).toMatch(/<g class="legend">.*>pause all<\/text>/);
    const html = renderTimeline(
      { ops: [op()], result: { valid: true, partitions: [] }, events: history },
      { faultStyles: styles },
    );
    expect(html).toContain('<rect class="shade" style="fill:#123456"');
    expect(html).toMatch(/<div class="legend">.*#123456.*pause all<\/span>/);
  });
});

describe('a fault kind added as one value, through the run engine', () => {
  const out = mkdtempSync(join(tmpdir(), 'faultline-new-kind-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('a run with its driver injects it, audits it and draws it in its colour', async () => {
    const world = fakeWorld();
    const spec = resolveSpec(
      parseSpec({
        name: 'pause-all',
        system: 'fake',
        backend: 'fake',
        nodes: 3,
        concurrency: 2,
        rate: 100,
        timeLimit: 0.4,
        recovery: 0,
        opTimeout: 0.1,
        seed: 1,
        out,
      }),
      () => 1,
    );
    // harness/spec.ts validates the nemesis field with the builtin kinds' schema, so the spec
    // of a kind of its own is set after parsing; the driver validates it against its registry.
    const nemesis = {
      faults: ['pause-all'],
      pauseAll: { spare: 1 },
      interval: 0.2,
      initialQuiet: 0,
    };
    const r = await runTest(
      { ...spec, nemesis: nemesis as unknown as typeof spec.nemesis },
      {
        backends: new Map([['fake', () => fakeBackend(world)]]),
        systems: new Map([['fake', fakeSystem(world)]]),
        workloads: WORKLOADS,
        nemesis: createNemesis(KINDS),
      },
    );
    const { events } = await readJsonlHistory(join(r.dir, 'history.jsonl'));
    const fs = events.filter((e) => e.process === 'nemesis').map((e) => e.f);
    expect(fs.slice(0, 2)).toEqual(['freeze-all', 'thaw-all']);
    expect(r.warnings.join('\n')).not.toMatch(/not carried out|failed/);
    // Each fault pauses every node but the one spared, and resumes them.
    const faults = fs.filter((f) => f === 'freeze-all').length;
    expect(fs.filter((f) => f === 'thaw-all')).toHaveLength(faults);
    expect(world.calls.filter((c) => c.startsWith('pause '))).toHaveLength(2 * faults);
    expect(world.calls.filter((c) => c.startsWith('resume '))).toHaveLength(2 * faults);
    const svg = readFileSync(join(r.dir, 'latency.svg'), 'utf8');
    expect(svg).toMatch(/fill="#123456" opacity="0.35"><title>freeze-all<\/title>/);
  });

  it("the heal closes a fault of its kind still open, by its kind's stop event", async () => {
    const world = fakeWorld();
    const cluster = await fakeBackend(world).createCluster({
      runId: 'heal',
      recipe: fakeSystem(world).recipe(),
      nodes: NODES,
      settings: {},
      logsDir: out,
      startTimeoutMs: 1000,
    });
    const heal = async (styles?: typeof KINDS.styles) => {
      const recorder = new Recorder(join(out, `heal-${styles ? 'styles' : 'none'}.jsonl`));
      const s = new RunSession(recorder, new AbortController().signal, () => {}, 1);
      s.recordNemesis({ process: 'nemesis', type: 'info', f: 'freeze-all', value: ['n1'] });
      await healStage(s, cluster, styles);
      recorder.close();
      return (await readJsonlHistory(recorder.file)).events.map((e) => e.f);
    };
    expect(await heal(KINDS.styles)).toEqual([
      'freeze-all',
      'heal-all-start',
      'thaw-all',
      'heal-all-stop',
    ]);
    // Without the table the history cannot tell that freeze-all opened anything.
    expect(await heal()).toEqual(['freeze-all', 'heal-all-start', 'heal-all-stop']);
  });
});

function op(): ClientOp {
  const invoke: HistoryEvent = { index: 0, time: 0, process: 0, type: 'invoke', f: 'read' };
  const completion: HistoryEvent = { index: 1, time: 1e9, process: 0, type: 'ok', f: 'read' };
  return { process: 0, f: 'read', status: 'ok', invoke, completion, call: 0, return: 1e9 };
}

describe('a registry refuses kinds that clash', () => {
  const other = (over: Partial<AnyFaultKind>): AnyFaultKind => ({
    ...(pauseAll as AnyFaultKind),
    name: 'other',
    ...over,
  });

  it('the same name twice, or an event another kind records', () => {
    expect(() => createFaultKinds([pauseAll, pauseAll])).toThrow(/listed twice/);
    expect(() =>
      createFaultKinds([pauseAll, other({ events: { open: 'x-start', close: 'thaw-all' } })]),
    ).toThrow(/pause-all and other both record the event thaw-all/);
    expect(() => createFaultKinds([other({ events: { open: 'x', close: 'x' } })])).toThrow(
      /same name/,
    );
  });

  it('a setting defined otherwise by another kind, or named like a common field', () => {
    const events = { open: 'o-start', close: 'o-stop' };
    const spare = { pauseAll: z.strictObject({}).default({}) };
    expect(() => createFaultKinds([pauseAll, other({ events, settings: spare })])).toThrow(
      /setting pauseAll otherwise/,
    );
    // The very same schema object is a shared setting, not a clash.
    expect(() =>
      createFaultKinds([pauseAll, other({ events, settings: pauseAll.settings })]),
    ).not.toThrow();
    expect(() =>
      createFaultKinds([other({ settings: { interval: z.number().default(1) } })]),
    ).toThrow(/common nemesis field/);
  });
});

describe("the builtin kinds' table", () => {
  // Names found in faultline's and Jepsen's histories, and a few made up.
  const names = [
    ...BUILTIN_FAULT_STYLES.flatMap((s) => [s.open, s.close]),
    'start-partition',
    'stop-partition',
    'start-packet',
    'stop',
    'crash',
    'freeze',
    'unfreeze',
    'partition',
    'heal',
    'bump-clock',
    'heal-all-start',
    'heal-all-stop',
  ];

  it('reads every name as the checker does without it (imported histories read the same)', () => {
    const kinds = [...new Set(BUILTIN_FAULT_STYLES.map((s) => s.kind)), 'fault', 'partition'];
    for (const f of names) {
      for (const open of [undefined, ...kinds]) {
        const isOpen = (k: string) => k === open;
        expect(classifyFaultEvent(f, isOpen, BUILTIN_FAULT_STYLES), `${f} (${open} open)`).toEqual(
          classifyFaultEvent(f, isOpen),
        );
      }
      if (classifyFaultEvent(f, () => false).edge === 'open') {
        expect(closingEventFor(f, BUILTIN_FAULT_STYLES)).toBe(closingEventFor(f));
      }
    }
  });

  it("keeps the event names and colours of faultline's histories and plots", () => {
    expect(BUILTIN_FAULT_STYLES).toEqual([
      {
        kind: 'partition',
        open: 'partition-start',
        close: 'partition-stop',
        label: 'partition',
        colour: '#9bb8ff',
      },
      { kind: 'kill', open: 'kill', close: 'start', label: 'kill', colour: '#ffb3b3' },
      { kind: 'pause', open: 'pause', close: 'resume', label: 'pause', colour: '#d9c2ff' },
      {
        kind: 'clock',
        open: 'clock-offset',
        close: 'clock-reset',
        label: 'clock',
        colour: '#ffd59b',
      },
      { kind: 'link', open: 'link-start', close: 'link-stop', label: 'link', colour: '#a8e0d0' },
      {
        kind: 'membership',
        open: 'membership-start',
        close: 'membership-stop',
        label: 'membership',
        colour: '#f5c2e7',
      },
    ]);
  });
});
