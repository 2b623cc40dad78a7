import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NEMESIS } from '../api/registries.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import { readResults } from '../checker/results.js';
import type { Capability } from '../core/cluster.js';
import type { RunDeps } from '../harness/runner.js';
import { RunSetupError, recheckRunFolder, runTest } from '../harness/runner.js';
import type { ResolvedSpec, TestSpecInput } from '../harness/spec.js';
import { parseSpec, resolveSpec } from '../harness/spec.js';
import { fakeBackend, fakeNemesis, fakeSystem, fakeWorld } from '../harness/testing/fakes.js';
import { WORKLOADS } from '../workloads/index.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-runner-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function setup(input: Partial<TestSpecInput> = {}, capabilities?: Capability[]) {
  const world = fakeWorld();
  const deps: RunDeps = {
    backends: new Map([['fake', () => fakeBackend(world, capabilities)]]),
    systems: new Map([['fake', fakeSystem(world)]]),
    workloads: WORKLOADS,
    nemesis: fakeNemesis(world),
  };
  const spec: ResolvedSpec = resolveSpec(
    parseSpec({
      name: 'fake-register',
      system: 'fake',
      backend: 'fake',
      nodes: 3,
      concurrency: 4,
      rate: 400,
      timeLimit: 0.6,
      recovery: 0.1,
      opTimeout: 0.2,
      seed: 42,
      out,
      nemesis: { faults: ['kill', 'pause'] },
      ...input,
    }),
    () => 1,
  );
  return { world, deps, spec };
}

/** The pid of a process that has exited (so no process has it now, barring reuse). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

const nemesisFs = (events: HistoryEvent[]) =>
  events.filter((e) => e.process === 'nemesis').map((e) => e.f);

async function historyOf(dir: string) {
  return (await readJsonlHistory(join(dir, 'history.jsonl'))).events;
}

describe('runner (fake backend and client)', () => {
  it('runs the phases in order and writes a complete results folder', async () => {
    const { world, deps, spec } = setup();
    const r = await runTest(spec, deps);
    expect(r.valid).toBe(true);
    expect(r.aborted).toBe(false);
    // Cluster up, faults, heal everything, tear down last.
    expect(world.calls[0]).toBe('plan');
    expect(world.calls[1]).toBe('createCluster');
    expect(world.calls.some((c) => c.startsWith('kill') || c.startsWith('pause'))).toBe(true);
    const heal = world.calls.indexOf('healAll');
    expect(heal).toBeGreaterThan(1);
    expect(world.calls.at(-1)).toBe('teardown');
    expect(world.calls.slice(0, heal).every((c) => c !== 'teardown')).toBe(true);

    const events = await historyOf(r.dir);
    const healStart = events.find((e) => e.f === 'heal-all-start')!;
    const healStop = events.find((e) => e.f === 'heal-all-stop')!;
    // The final phase (reads of every key from one worker per node) comes after the recovery wait.
    const finals = events.filter((e) => e.index > healStop.index && e.process !== 'nemesis');
    expect(finals.filter((e) => e.type === 'invoke').length).toBe(3 * 3);
    expect(finals.every((e) => e.f === 'read')).toBe(true);
    expect(finals[0]!.time - healStop.time).toBeGreaterThanOrEqual(0.1 * 1e9);
    // No client op is invoked between the start of the heal and the final phase.
    expect(
      events.filter(
        (e) => e.index > healStart.index && e.index < healStop.index && e.type === 'invoke',
      ),
    ).toEqual([]);

    // The folder: test.json (re-checkable), history, results, timeline, latest.
    const test = JSON.parse(readFileSync(join(r.dir, 'test.json'), 'utf8'));
    expect(test).toMatchObject({
      seed: 42,
      status: 'complete',
      check: { model: 'kv', initial: null },
    });
    expect(test.spec.name).toBe('fake-register');
    expect(Array.isArray(test.plan)).toBe(true);
    expect(test.node).toBe(process.version);
    const results = await readResults(join(r.dir, 'results.json'));
    expect(results.valid).toBe(true);
    expect(results.checkers.linearizability?.valid).toBe(true);
    expect(results.ops).toBeGreaterThan(50);
    expect(existsSync(join(r.dir, 'timeline.html'))).toBe(true);
    expect(readFileSync(join(r.dir, 'latency.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<circle/);
    expect(readFileSync(join(r.dir, 'rate.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<polyline/);
    expect(resolve(out, readlinkSync(join(out, 'latest')))).toBe(resolve(r.dir));
    // progress.json (for a live view) ends with the run: phase done, every completion counted.
    const progress = JSON.parse(readFileSync(join(r.dir, 'progress.json'), 'utf8'));
    const completions = events.filter((e) => e.process !== 'nemesis' && e.type !== 'invoke').length;
    expect(progress).toMatchObject({ phase: 'done', faults: '' });
    expect(progress.ok + progress.fail + progress.info).toBe(completions);
  });

  it('finds a planted anomaly (a node whose reads answer null)', async () => {
    const { world, deps, spec } = setup({ nemesis: { faults: [] }, seed: 5 });
    world.lyingNodes.add('n2');
    const r = await runTest(spec, deps);
    expect(r.valid).toBe(false);
    expect(r.checkers.find((c) => c.name === 'linearizability')?.valid).toBe(false);
    expect(existsSync(join(r.dir, 'timeline.html'))).toBe(true);
  });

  it('records leader changes read from the cluster, and draws them; failover per fault', async () => {
    const world = fakeWorld();
    world.leader = 'n2';
    const deps: RunDeps = {
      backends: new Map([['fake', () => fakeBackend(world)]]),
      systems: new Map([['fake', fakeSystem(world, { leader: true })]]),
      workloads: WORKLOADS,
      nemesis: NEMESIS,
    };
    const spec = resolveSpec(
      parseSpec({
        name: 'fake-leader',
        system: 'fake',
        backend: 'fake',
        nodes: 3,
        concurrency: 3,
        rate: 200,
        timeLimit: 1,
        recovery: 0.1,
        opTimeout: 0.2,
        seed: 7,
        out,
        nemesis: {
          faults: ['kill'],
          targets: ['leader'],
          initialQuiet: 0.1,
          faultDuration: [0.2, 0.2],
          quiet: [0.15, 0.15],
        },
      }),
      () => 1,
    );
    const r = await runTest(spec, deps, { leaderPollMs: 20 });
    const events = await historyOf(r.dir);
    const leaders = events.filter((e) => e.process === 'observer');
    expect(leaders.every((e) => e.type === 'info' && e.f === 'leader')).toBe(true);
    // n2 led; the nemesis killed it and n1 won; then n1 was killed while n2 was back, and so on.
    const values = leaders.map((e) => e.value);
    expect(values.slice(0, 3)).toEqual(['n2', 'n1', 'n2']);
    for (let i = 1; i < values.length; i++) expect(values[i]).not.toBe(values[i - 1]);
    // Each change follows a kill of the node that led before it.
    const kills = events.filter((e) => e.process === 'nemesis' && e.f === 'kill');
    expect(kills[0]!.value).toEqual(['n2']);
    expect(leaders[1]!.time).toBeGreaterThan(kills[0]!.time);
    // Not client ops: the history pairs, and the stats count only the clients' ops.
    expect(r.results.ops).toBeGreaterThan(0);
    const results = await readResults(join(r.dir, 'results.json'));
    const stats = results.checkers.stats as unknown as {
      count: number;
      failover: { kind: string; nodes?: string[]; recoveredAfterStartMs: number | null }[];
    };
    expect(stats.count).toBe(results.ops);
    expect(stats.failover.length).toBe(kills.length);
    expect(stats.failover[0]).toMatchObject({ kind: 'kill', nodes: ['n2'] });
    // Drawn: the leader band on the timeline, the marks on both plots.
    expect(readFileSync(join(r.dir, 'timeline.html'), 'utf8')).toContain('<g class="leader">');
    for (const plot of ['latency.svg', 'rate.svg']) {
      const svg = readFileSync(join(r.dir, plot), 'utf8');
      expect(svg).toContain('class="leader-change"');
      expect(svg).toContain('>leader change</text>');
    }
    // A re-check reads the same history, observer events and all, to the same verdict.
    const again = await recheckRunFolder(r.dir, deps);
    expect(again?.verdict).toBe(r.verdict);
  });

  it('records errors by class and retires a process after info', async () => {
    const { world, deps, spec } = setup({ seed: 9, timeLimit: 2 });
    const events = await historyOf((await runTest(spec, deps)).dir);
    expect(world.calls.some((c) => c.startsWith('pause'))).toBe(true);
    expect(world.calls.some((c) => c.startsWith('kill'))).toBe(true);
    const fails = events.filter((e) => e.type === 'fail');
    // Killed nodes refuse connections (fail); paused nodes time out (info).
    expect(fails.some((e) => String(e.error).startsWith('connection refused'))).toBe(true);
    const infos = events.filter((e) => e.type === 'info' && e.process !== 'nemesis');
    expect(infos.length).toBeGreaterThan(0);
    for (const info of infos) {
      expect(info.error).toBe('timeout');
      const p = info.process as number;
      const later = events.filter((e) => e.index > info.index && e.process === p);
      expect(later).toEqual([]);
      // The worker carries on as process p + concurrency.
      expect(events.some((e) => e.index > info.index && e.process === p + 4)).toBe(true);
    }
  });

  it('re-checking a run folder reproduces its results.json (all checkers, warnings)', async () => {
    const { world, deps, spec } = setup({ nemesis: { faults: [] }, seed: 11 });
    world.lyingNodes.add('n1');
    world.failOn.add('teardown');
    const r = await runTest(spec, deps);
    expect(r.valid).toBe(false);
    const withoutTimes = (text: string) =>
      JSON.stringify(JSON.parse(text), (k, v) => (k === 'elapsedMs' ? undefined : v));
    const before = readFileSync(join(r.dir, 'results.json'), 'utf8');
    rmSync(join(r.dir, 'results.json'));
    const again = await recheckRunFolder(r.dir, deps);
    expect(again).toBeDefined();
    expect(again!.valid).toBe(false);
    expect(again!.checkers.map((c) => c.name)).toEqual(r.checkers.map((c) => c.name));
    const after = readFileSync(join(r.dir, 'results.json'), 'utf8');
    expect(withoutTimes(after)).toBe(withoutTimes(before));
    // The run's own warning (the failed teardown) is part of what is reproduced.
    expect(JSON.parse(after).warnings.join('\n')).toMatch(/tearing the cluster down failed/);
    // A folder whose test.json records only a check model (or nothing readable) is not a run.
    const notRun = mkdtempSync(join(tmpdir(), 'faultline-not-run-'));
    expect(await recheckRunFolder(notRun, deps)).toBeUndefined();
    writeFileSync(join(notRun, 'test.json'), JSON.stringify({ check: { model: 'kv' } }));
    expect(await recheckRunFolder(notRun, deps)).toBeUndefined();
    rmSync(notRun, { recursive: true, force: true });
  });

  it('refuses a fault the backend cannot do, before starting anything', async () => {
    const { world, deps, spec } = setup({ nemesis: { faults: ['kill', 'clock'] } }, ['kill']);
    await expect(runTest(spec, deps)).rejects.toThrow(RunSetupError);
    await expect(runTest(spec, deps)).rejects.toThrow(/fake backend cannot do the clock fault/);
    expect(world.calls.filter((c) => c === 'createCluster')).toEqual([]);
  });

  it('tears down, checks and warns when healing fails; the verdict is unknown', async () => {
    const { world, deps, spec } = setup({ seed: 3 });
    world.failOn.add('healAll');
    const r = await runTest(spec, deps);
    expect(world.calls.at(-1)).toBe('teardown');
    expect(r.warnings.some((w) => /healing the cluster failed/.test(w))).toBe(true);
    // The cluster was never healed: the run did not do what it planned.
    expect(r.verdict).toBe('unknown');
    expect(r.valid).toBe('unknown');
    expect(r.reasons.join('\n')).toMatch(/healing the cluster failed/);
    const results = await readResults(join(r.dir, 'results.json'));
    expect(results.run).toMatchObject({ status: 'complete', verdict: 'unknown' });
  });

  it('a teardown failure does not prevent checking', async () => {
    const { world, deps, spec } = setup({ seed: 4, nemesis: { faults: [] } });
    world.failOn.add('teardown');
    const r = await runTest(spec, deps);
    expect(r.valid).toBe(true);
    expect(r.warnings.some((w) => /tearing the cluster down failed/.test(w))).toBe(true);
  });

  it('clients that cannot connect: crashed, unknown, never valid', async () => {
    const { world, deps, spec } = setup({ seed: 6 });
    world.failOn.add('open');
    const r = await runTest(spec, deps);
    expect(world.calls.at(-1)).toBe('teardown');
    expect(r.warnings.some((w) => /cannot open a client/.test(w))).toBe(true);
    expect(r.results.ops).toBe(0);
    expect(r.status).toBe('crashed');
    expect(r.verdict).toBe('unknown');
    expect(r.reasons.join('\n')).toMatch(/stopped on an error.*cannot open a client/);
    expect(r.reasons.join('\n')).toMatch(/no client operation was recorded/);
    const test = JSON.parse(readFileSync(join(r.dir, 'test.json'), 'utf8'));
    expect(test).toMatchObject({ status: 'crashed', verdict: 'unknown' });
  });

  it('every op refused: unknown for want of evidence, not valid', async () => {
    const { world, deps, spec } = setup({ seed: 12, nemesis: { faults: [] } });
    world.refuseAll = true;
    const r = await runTest(spec, deps);
    expect(r.status).toBe('complete');
    expect(r.results.ops).toBeGreaterThan(20);
    // Every op failed definitely: the checker has nothing to judge, and the gate must not pass.
    expect(r.checkers.find((c) => c.name === 'linearizability')?.valid).toBe('unknown');
    expect(r.verdict).toBe('unknown');
    expect(r.reasons.join('\n')).toMatch(/only 0 of \d+ client operations completed ok/);
  });

  it('evidence per key: a key with no ok op makes the verdict unknown; the minimum is a setting', async () => {
    // Key r3's ops are all refused (a definite fail), so nothing about it was tested.
    const refuseKey = (deps: RunDeps, key: string) => {
      const system = deps.systems.get('fake')!;
      const base = system.clients.register!;
      system.clients.register = {
        errors: base.errors,
        open(node, addr, context) {
          const c = base.open(node, addr, context);
          return {
            async invoke(op, signal) {
              if (op.key === key) {
                throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
              }
              return c.invoke(op, signal);
            },
            close: () => c.close(),
          };
        },
      };
    };
    const input = { nemesis: { faults: [] }, workload: { name: 'register', options: { keys: 4 } } };
    const strict = setup({ seed: 13, ...input });
    refuseKey(strict.deps, 'r3');
    const r = await runTest(strict.spec, strict.deps);
    expect(r.verdict).toBe('unknown');
    expect(r.reasons.join('\n')).toMatch(/1 of 4 keys had fewer than 1 ok operation: r3 \(0\)/);
    const relaxed = setup({ seed: 13, ...input, evidence: { minOkOpsPerKey: 0 } });
    refuseKey(relaxed.deps, 'r3');
    const r2 = await runTest(relaxed.spec, relaxed.deps);
    expect(r2.verdict).toBe('valid');
    expect(r2.valid).toBe(true);
  });

  it('a cluster that does not come up: failed-to-start, the node stderr shown, latest not moved', async () => {
    const ok = setup({ seed: 7, nemesis: { faults: [] } });
    const good = await runTest(ok.spec, ok.deps);
    const { world, deps, spec } = setup({ seed: 7 });
    world.failOn.add('createCluster');
    const err = await runTest(spec, deps).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RunSetupError);
    const message = (err as Error).message;
    expect(message).toMatch(/did not come up: fake: node n1/);
    // The node's own reason, not only "see its log".
    expect(message).toMatch(/n1 stderr[\s\S]*--storage "floppy": Invalid option/);
    expect(resolve(out, readlinkSync(join(out, 'latest')))).toBe(resolve(good.dir));
    const failed = readdirSync(join(out, 'fake-register'))
      .map((d) => join(out, 'fake-register', d))
      .map((d) => JSON.parse(readFileSync(join(d, 'test.json'), 'utf8')))
      .filter((t) => t.status === 'failed-to-start');
    expect(failed.length).toBe(1);
  });

  it('a SIGKILLed run (test.json still "running", process gone) re-checks as crashed, unknown', async () => {
    const { deps, spec } = setup({ seed: 14, nemesis: { faults: [] } });
    const r = await runTest(spec, deps);
    expect(r.verdict).toBe('valid');
    const file = join(r.dir, 'test.json');
    const test = JSON.parse(readFileSync(file, 'utf8'));
    // As the harness left it when killed mid-run: still running, its pid gone.
    writeFileSync(file, JSON.stringify({ ...test, status: 'running', pid: deadPid() }));
    const again = await recheckRunFolder(r.dir, deps);
    expect(again!.verdict).toBe('unknown');
    expect(again!.reasons[0]).toMatch(/did not finish.*process is gone/);
    expect(JSON.parse(readFileSync(file, 'utf8')).status).toBe('crashed');
    expect((await readResults(join(r.dir, 'results.json'))).run?.status).toBe('crashed');
  });

  it('refuses a fault plan that holds fewer faults than asked, naming the setting', async () => {
    const { world, deps, spec } = setup({ timeLimit: 3, nemesis: { faults: ['kill'] } });
    const real = { ...deps, nemesis: NEMESIS };
    await expect(runTest(spec, real)).rejects.toThrow(RunSetupError);
    await expect(runTest(spec, real)).rejects.toThrow(/holds no fault at all.*--time-limit/);
    expect(world.calls).not.toContain('createCluster');
    // Long enough for one of each kind asked: runs.
    const ok = setup({ timeLimit: 6, nemesis: { faults: ['kill', 'pause'], interval: 2 } });
    const r = await runTest(ok.spec, { ...ok.deps, nemesis: NEMESIS });
    expect(r.verdict).toBe('valid');
    const plan = JSON.parse(readFileSync(join(r.dir, 'test.json'), 'utf8')).plan;
    const kinds = new Set(plan.entries.map((e: { fault: { kind: string } }) => e.fault.kind));
    expect(kinds).toEqual(new Set(['kill', 'pause']));
  });

  it('a planned fault whose primitive fails makes the verdict unknown', async () => {
    const { world, deps, spec } = setup({
      timeLimit: 4,
      nemesis: { faults: ['kill'], interval: 1 },
    });
    world.failOn.add('kill');
    const r = await runTest(spec, { ...deps, nemesis: NEMESIS });
    expect(r.status).toBe('complete');
    expect(r.verdict).toBe('unknown');
    expect(r.reasons.join('\n')).toMatch(
      /fault 1 \(kill n\d\): kill failed: n\d: fake: kill n\d failed/,
    );
  });

  it('stops on abort (Ctrl-C): heals, skips recovery and final reads, tears down, checks', async () => {
    const { world, deps, spec } = setup({ timeLimit: 30, recovery: 30, seed: 8 });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 300);
    const t0 = Date.now();
    const r = await runTest(spec, deps, { signal: ctl.signal });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.aborted).toBe(true);
    // Stopped early: never a pass, whatever the checkers found in the history so far.
    expect(r.status).toBe('aborted');
    expect(r.verdict).toBe('unknown');
    expect(r.reasons[0]).toMatch(/stopped before it finished: stopped in the main phase/);
    const results = await readResults(join(r.dir, 'results.json'));
    expect(results.valid).toBe('unknown');
    expect(results.run).toMatchObject({ status: 'aborted', verdict: 'unknown' });
    expect(world.calls.includes('healAll')).toBe(true);
    expect(world.calls.at(-1)).toBe('teardown');
    const events = await historyOf(r.dir);
    const healStop = events.find((e) => e.f === 'heal-all-stop')!;
    expect(events.filter((e) => e.index > healStop.index)).toEqual([]);
    // Faults left open by the stopped nemesis are closed in the history by the heal.
    const fs = nemesisFs(events);
    expect(fs.at(-1)).toBe('heal-all-stop');
    const test = JSON.parse(readFileSync(join(r.dir, 'test.json'), 'utf8'));
    expect(test.status).toBe('aborted');
    expect(existsSync(join(r.dir, 'results.json'))).toBe(true);
  });

  it('the same seed gives the same fault plan and op stream', async () => {
    const faults = { faults: ['kill' as const, 'pause' as const], interval: 0.4 };
    const a = setup({ seed: 11, concurrency: 1, timeLimit: 1.5, nemesis: faults });
    const b = setup({ seed: 11, concurrency: 1, timeLimit: 1.5, nemesis: faults });
    const ra = await runTest(a.spec, { ...a.deps, nemesis: NEMESIS });
    const rb = await runTest(b.spec, { ...b.deps, nemesis: NEMESIS });
    const planOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'test.json'), 'utf8')).plan;
    expect(planOf(ra.dir).entries.length).toBeGreaterThan(1);
    expect(planOf(ra.dir)).toEqual(planOf(rb.dir));
    // The faults were carried out, in the same order, on the same nodes.
    const faultCalls = (calls: string[]) => calls.filter((c) => /^(kill|pause) /.test(c));
    expect(faultCalls(a.world.calls).length).toBeGreaterThan(1);
    expect(faultCalls(a.world.calls)).toEqual(faultCalls(b.world.calls));
    const ops = async (dir: string) =>
      (await historyOf(dir))
        .filter((e) => e.type === 'invoke')
        .slice(0, 40)
        .map((e) => [e.f, e.key, e.value]);
    expect(await ops(ra.dir)).toEqual(await ops(rb.dir));
  });
});
