/**
 * The run's stages one at a time, with the in-memory fakes: each is a function of its inputs
 * and the run session, so it can be driven without the rest of the pipeline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonlHistory } from '../../checker/history/jsonl.js';
import type { Cluster } from '../../core/cluster.js';
import type { NemesisDriver } from '../../core/nemesis.js';
import { Rng } from '../../core/random.js';
import { just } from '../../generators/index.js';
import { nemesisDriver } from '../../nemesis/index.js';
import { WORKLOADS } from '../../workloads/index.js';
import { ProcessTable } from '../interpreter.js';
import { Recorder } from '../recorder.js';
import { parseSpec, resolveSpec } from '../spec.js';
import { fakeBackend, fakeNemesis, fakeSystem, fakeWorld } from '../testing/fakes.js';
import { ClusterStartError, clusterUp } from './cluster-up.js';
import type { Drive } from './drive.js';
import { mainPhase } from './drive.js';
import { RunSetupError } from './errors.js';
import { finalPhase } from './final-phase.js';
import { healStage } from './heal.js';
import { prepare } from './prepare.js';
import { RunSession } from './session.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-stages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function session(signal = new AbortController().signal) {
  const recorder = new Recorder(join(dir, `history-${files++}.jsonl`));
  const lines: string[] = [];
  return { s: new RunSession(recorder, signal, (l) => lines.push(l), 1), recorder, lines };
}

async function fakeCluster() {
  const world = fakeWorld();
  const cluster = await fakeBackend(world).createCluster({
    runId: 'r',
    recipe: fakeSystem(world).recipe(),
    nodes: ['n1', 'n2', 'n3'],
    settings: {},
    logsDir: join(dir, 'nodes'),
    startTimeoutMs: 1000,
  });
  return { world, cluster };
}

function deps(world = fakeWorld()) {
  return {
    backends: new Map([['fake', () => fakeBackend(world)]]),
    systems: new Map([['fake', fakeSystem(world)]]),
    workloads: WORKLOADS,
    nemesis: fakeNemesis(world),
  };
}

const spec = (input: Record<string, unknown> = {}) =>
  resolveSpec(
    parseSpec({ system: 'fake', backend: 'fake', nodes: 3, timeLimit: 1, out: dir, ...input }),
    () => 1,
  );

describe('stage 1: prepare', () => {
  it('names what cannot run before anything starts, else gives the plan and workload', () => {
    expect(() => prepare(spec({ backend: 'nope' }), deps())).toThrow(
      /unknown backend "nope" \(known: fake\)/,
    );
    expect(() => prepare(spec({ system: 'nope' }), deps())).toThrow(RunSetupError);
    expect(() => prepare(spec({ nemesis: { faults: ['clock'] } }), deps())).toThrow(
      /fake backend cannot do the clock fault/,
    );
    const p = prepare(spec({ nemesis: { faults: ['kill'] } }), deps());
    expect(p.nodes).toEqual(['n1', 'n2', 'n3']);
    expect(Array.isArray(p.plan)).toBe(true);
    expect(p.workload.checkers.map((c) => c.name)).toEqual(['linearizability', 'stats']);
  });

  it("refuses a backend the system cannot start on, and settings the system's schema refuses", () => {
    const d = deps();
    const fake = d.systems.get('fake')!;
    const checked: Record<string, string>[] = [];
    d.systems.set('fake', {
      ...fake,
      backends: ['docker'],
      checkSettings: (s) => {
        checked.push({ ...s });
        return s.mode === 'floppy' ? 'system fake: setting mode: no, got "floppy"' : undefined;
      },
    });
    expect(() => prepare(spec(), d)).toThrow(
      /system fake cannot run on the fake backend \(it can on: docker\)/,
    );
    d.systems.set('fake', { ...d.systems.get('fake')!, backends: ['fake'] });
    expect(() => prepare(spec({ settings: { mode: 'floppy' } }), d)).toThrow(
      /system fake: setting mode: no, got "floppy"/,
    );
    expect(checked).toEqual([{ mode: 'floppy' }]);
    expect(prepare(spec({ settings: { mode: 'disk' } }), d).nodes).toHaveLength(3);
  });
});

describe('stage 1: prepare, faults aimed at the leader', () => {
  const withSystem = (leader: boolean) => ({
    ...deps(),
    systems: new Map([['fake', fakeSystem(fakeWorld(), { leader })]]),
    nemesis: nemesisDriver,
  });

  it('refuses target leader and topology isolate-leader on a system without a leader hook', () => {
    const refused = (nemesis: Record<string, unknown>) => {
      try {
        prepare(spec({ timeLimit: 30, nemesis }), withSystem(false));
      } catch (e) {
        expect(e).toBeInstanceOf(RunSetupError);
        return (e as Error).message;
      }
      return 'not refused';
    };
    expect(refused({ faults: ['kill', 'pause'], targets: ['one', 'leader'] })).toBe(
      'the fake system has no leader hook (it cannot say which node leads), so it cannot take' +
        ' faults aimed at the leader (targets: leader): drop that fault (or the target or' +
        ' topology named) from --nemesis, or pick another backend or system',
    );
    expect(refused({ faults: ['partition'], topologies: ['isolate-leader'] })).toMatch(
      /^the fake system has no leader hook .*partitions that isolate the leader \(topology: isolate-leader\)/,
    );
    // Not asked for: targets only matter to the kinds that use them.
    expect(refused({ faults: ['partition'], targets: ['leader'] })).toBe('not refused');
    expect(refused({ faults: ['kill'] })).toBe('not refused');
  });

  it('plans a leader fault with no nodes on a system with the hook', () => {
    const p = prepare(
      spec({ timeLimit: 30, nemesis: { faults: ['kill'], targets: ['leader'] } }),
      withSystem(true),
    );
    const entries = (p.plan as { entries: { fault: unknown }[] }).entries;
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(e.fault).toEqual({ kind: 'kill', target: 'leader', nodes: [] });
  });
});

describe('stage 2: cluster up', () => {
  it('a cluster that does not come up carries the nodes’ own stderr', async () => {
    const world = fakeWorld();
    world.failOn.add('createCluster');
    const p = prepare(spec(), deps(world));
    const logsDir = join(dir, 'up-nodes');
    const err = await clusterUp({
      prepared: p,
      runId: 'r',
      settings: {},
      logsDir,
      startTimeoutMs: 1000,
      signal: new AbortController().signal,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterStartError);
    expect((err as ClusterStartError).nodeOutput.join('\n')).toMatch(/floppy/);
  });
});

describe('stage 3: drive with nemesis', () => {
  it('stops the nemesis at the time limit, and records a nemesis failure as a problem', async () => {
    const { cluster } = await fakeCluster();
    const { s, recorder } = session();
    let nemesisSignal: AbortSignal | undefined;
    const nemesis: NemesisDriver = {
      requiredCapabilities: () => [],
      plan: () => [],
      async run(_plan, _cluster, io) {
        nemesisSignal = io.signal;
        await new Promise((r) => setTimeout(r, 50));
        throw new Error('primitive exploded');
      },
    };
    const driven: string[] = [];
    const drive: Drive = async (_gen, label) => {
      driven.push(label);
      await new Promise((r) => setTimeout(r, 150));
    };
    await mainPhase({
      session: s,
      drive,
      cluster,
      nemesis,
      plan: [],
      workload: { generator: just({ f: 'read' }) },
      timeLimitS: 0.1,
      rate: 10,
    });
    recorder.close();
    expect(driven).toEqual(['ops']);
    expect(nemesisSignal?.aborted).toBe(true);
    expect(s.problems).toEqual(['the nemesis stopped early: primitive exploded']);
    const { events } = await readJsonlHistory(recorder.file);
    expect(events.map((e) => e.f)).toContain('nemesis-error');
  });
});

describe('stage 3: the nemesis asks the system who leads', () => {
  it('kills whoever leads at each fault, through the system’s leader hook', async () => {
    const { world, cluster } = await fakeCluster();
    world.leader = 'n2';
    const system = fakeSystem(world, { leader: true });
    const plan = nemesisDriver.plan(
      {
        faults: ['kill'],
        targets: ['leader'],
        initialQuiet: 0.01,
        faultDuration: [0.03, 0.03],
        quiet: [0.02, 0.02],
      },
      cluster.nodes,
      new Rng(1),
      200,
    );
    const { s, recorder } = session();
    await mainPhase({
      session: s,
      drive: async () => {
        await new Promise((r) => setTimeout(r, 250));
      },
      cluster,
      nemesis: nemesisDriver,
      system,
      plan,
      workload: { generator: just({ f: 'read' }) },
      timeLimitS: 0.3,
      rate: 10,
    });
    recorder.close();
    const { events } = await readJsonlHistory(recorder.file);
    const nemesis = events.filter((e) => e.process === 'nemesis').map((e) => [e.f, e.value]);
    // n2 leads, is killed: n1 wins (the fake's election: the first live node); n1 is killed next,
    // while n2 is back: n2 leads again; and so on.
    expect(nemesis).toEqual([
      ['kill', ['n2']],
      ['start', ['n2']],
      ['kill', ['n1']],
      ['start', ['n1']],
      ['kill', ['n2']],
      ['start', ['n2']],
      ['kill', ['n1']],
      ['start', ['n1']],
    ]);
    expect(world.calls.filter((c) => c.startsWith('leader?'))).toHaveLength(4);
    expect(world.calls).toContain('leader? n1,n2,n3');
    expect(s.problems).toEqual([]);
  });

  it('without the hook, a fault aimed at the leader is recorded as failed', async () => {
    const { cluster } = await fakeCluster();
    const plan = nemesisDriver.plan(
      { faults: ['kill'], targets: ['leader'], initialQuiet: 0.01, faultDuration: [0.02, 0.02] },
      cluster.nodes,
      new Rng(1),
      60,
    );
    const { s, recorder } = session();
    await mainPhase({
      session: s,
      drive: async () => {
        await new Promise((r) => setTimeout(r, 80));
      },
      cluster,
      nemesis: nemesisDriver,
      system: fakeSystem(fakeWorld()),
      plan,
      workload: { generator: just({ f: 'read' }) },
      timeLimitS: 0.1,
      rate: 10,
    });
    recorder.close();
    const { events } = await readJsonlHistory(recorder.file);
    expect(nemesisDriver.audit(plan, events)).toEqual([
      expect.stringMatching(
        /kill leader\): kill failed: no leader to aim at: the system has no leader hook/,
      ),
    ]);
  });
});

describe('stage 4: heal', () => {
  it('heals the cluster and closes every fault still open in the history', async () => {
    const { world, cluster } = await fakeCluster();
    const { s, recorder } = session();
    s.recordNemesis({ process: 'nemesis', type: 'info', f: 'kill', value: ['n2'] });
    await cluster.kill('n2');
    s.recordNemesis({ process: 'nemesis', type: 'info', f: 'clock-offset', value: { n1: 5 } });
    expect(s.activeFaults()).toBe('kill, clock');
    await healStage(s, cluster);
    recorder.close();
    expect(world.killed.size).toBe(0);
    expect(s.activeFaults()).toBe('');
    const fs = (await readJsonlHistory(recorder.file)).events.map((e) => e.f);
    expect(fs).toEqual([
      'kill',
      'clock-offset',
      'heal-all-start',
      'start',
      'clock-reset',
      'heal-all-stop',
    ]);
    expect(s.problems).toEqual([]);
  });

  it('a heal that fails is a problem of the run', async () => {
    const { world, cluster } = await fakeCluster();
    world.failOn.add('healAll');
    const { s, recorder } = session();
    await healStage(s, cluster as Cluster);
    recorder.close();
    expect(s.problems).toEqual(['healing the cluster failed: fake: healAll failed']);
  });
});

describe('the run session', () => {
  it('knows the faults in effect by the nemesis kinds’ own event names', () => {
    const styles = [
      { kind: 'pause-all', open: 'freeze-all', close: 'thaw-all', label: 'all', colour: '#000' },
    ];
    const recorder = new Recorder(join(dir, `history-${files++}.jsonl`));
    const s = new RunSession(recorder, new AbortController().signal, () => {}, 1, styles);
    s.recordNemesis({ process: 'nemesis', type: 'info', f: 'freeze-all' });
    expect(s.activeFaults()).toBe('pause-all');
    expect(s.progress().faults).toBe('pause-all');
    s.recordNemesis({ process: 'nemesis', type: 'info', f: 'thaw-all' });
    expect(s.activeFaults()).toBe('');
    recorder.close();
  });
});

describe('stage 5: final phase', () => {
  const input = async (signal: AbortSignal, drive: Drive) => {
    const { cluster } = await fakeCluster();
    const { s, recorder } = session(signal);
    return {
      recorder,
      args: {
        session: s,
        drive,
        cluster,
        nodes: cluster.nodes,
        processes: new ProcessTable(1),
        workload: { finalGenerator: just({ f: 'read', key: 'k' }) },
        settings: {},
        recoveryS: 0.05,
        opTimeoutS: 1,
        concurrency: 1,
      },
    };
  };

  it('waits the recovery time on the history clock, then runs the final generator', async () => {
    const labels: string[] = [];
    const { args, recorder } = await input(new AbortController().signal, async (_g, l) => {
      labels.push(l);
    });
    const t0 = recorder.now();
    await finalPhase(args);
    expect(recorder.now() - t0).toBeGreaterThanOrEqual(0.05 * 1e9);
    expect(labels).toEqual(['final']);
    recorder.close();
  });

  it('is skipped from where the run was stopped', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const labels: string[] = [];
    const { args, recorder } = await input(ctl.signal, async (_g, l) => {
      labels.push(l);
    });
    await finalPhase(args);
    expect(labels).toEqual([]);
    expect(args.session.phase).toBe('setup');
    recorder.close();
  });
});
