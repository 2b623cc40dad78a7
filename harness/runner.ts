import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import { pairOperations } from '../checker/history/pair.js';
import type { Verdict } from '../checker/porcupine/types.js';
import type { Results } from '../checker/results.js';
import { combineVerdicts, RESULTS_VERSION, writeResults } from '../checker/results.js';
import type { TimelineInput } from '../checker/timeline/index.js';
import { nemesisIntervals, renderTimeline } from '../checker/timeline/index.js';
import type {
  CheckerReport,
  RegisteredWorkload,
  ReplicaReadsSpec,
  Workload,
} from '../workloads/index.js';
import type { Backend, Cluster, NodeId } from './backends/types.js';
import type { Client, Op } from './client.js';
import type { ReplicaReadsOutcome } from './final-replica-reads.js';
import { finalReplicaReads } from './final-replica-reads.js';
import type { Gen } from './generator/index.js';
import { stagger, timeLimit } from './generator/index.js';
import { interpret, ProcessTable } from './interpreter.js';
import type { NemesisDriver } from './nemesis-driver.js';
import { latencySvg, rateSvg } from './plots.js';
import { Rng } from './random.js';
import type { EventInput } from './recorder.js';
import { Recorder } from './recorder.js';
import {
  createRunFolder,
  FILES,
  faultlineVersion,
  updateLatest,
  writeJsonFile,
} from './results-folder.js';
import type { ResolvedSpec } from './spec.js';
import { parseSpec, resolveSpec } from './spec.js';
import type { SystemDefinition } from './systems/types.js';

/** The test cannot run (unknown backend, a fault the backend cannot do, ...): exit code 3. */
export class RunSetupError extends Error {
  override readonly name = 'RunSetupError';
}

export interface RunDeps {
  backends: ReadonlyMap<string, () => Backend>;
  systems: ReadonlyMap<string, SystemDefinition>;
  workloads: ReadonlyMap<string, RegisteredWorkload>;
  nemesis: NemesisDriver;
}

export type Phase =
  | 'setup'
  | 'main'
  | 'heal'
  | 'recovery'
  | 'final'
  | 'converge'
  | 'teardown'
  | 'check'
  | 'done';

export interface Progress {
  phase: Phase;
  /** Seconds since the main phase started (0 before). */
  elapsedS: number;
  limitS: number;
  /** Completions per second over the last interval. */
  opsPerS: number;
  ok: number;
  fail: number;
  info: number;
  /** Faults in effect now, e.g. "partition, kill". */
  faults: string;
}

export interface RunOptions {
  /** Aborting stops the run early (Ctrl-C): clients stop, faults heal, the cluster is torn down, the history checked. */
  signal?: AbortSignal;
  onProgress?(p: Progress): void;
  /** Interval of onProgress calls (default 1000 ms). */
  progressMs?: number;
  /** Notes for the user (phases, warnings). */
  log?(line: string): void;
  /** Health-check bound when starting the cluster (default 30 s). */
  startTimeoutMs?: number;
}

export interface CheckerVerdict {
  name: string;
  valid: Verdict;
}

export interface RunOutcome {
  valid: Verdict;
  dir: string;
  seed: number;
  checkers: CheckerVerdict[];
  results: Results;
  /** The run was stopped early by the signal. */
  aborted: boolean;
  warnings: string[];
}

/** n1..nN */
export function nodeNames(n: number): NodeId[] {
  return Array.from({ length: n }, (_, i) => `n${i + 1}`);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** How the nemesis event that opened a fault is closed, for faults still open at heal time. */
function closingF(label: string): string {
  const suffix = /^(.+)-(start|begin)$/.exec(label);
  if (suffix) return `${suffix[1]}-${suffix[2] === 'start' ? 'stop' : 'end'}`;
  const prefix = /^start-(.+)$/.exec(label);
  if (prefix) return `stop-${prefix[1]}`;
  switch (label) {
    case 'kill':
    case 'crash':
      return 'start';
    case 'pause':
    case 'freeze':
      return 'resume';
    case 'partition':
      return 'heal';
    default:
      return `${label}-stop`;
  }
}

/** The spec's workload, built exactly as a run builds it (same seed stream). */
function buildWorkload(spec: ResolvedSpec, deps: RunDeps, system: SystemDefinition): Workload {
  const workloadDef = deps.workloads.get(spec.workload.name);
  if (workloadDef === undefined) {
    throw new RunSetupError(
      `unknown workload ${JSON.stringify(spec.workload.name)} (known: ${[...deps.workloads.keys()].join(', ')})`,
    );
  }
  try {
    return workloadDef.build(spec.workload.options, {
      system,
      nodes: nodeNames(spec.nodes),
      concurrency: spec.concurrency,
      settings: spec.settings,
      rng: new Rng(spec.seed).fork('workload'),
    });
  } catch (e) {
    throw new RunSetupError(errorText(e));
  }
}

/** Validates the spec against the registries and the backend's capabilities (RunSetupError). */
export function prepare(spec: ResolvedSpec, deps: RunDeps) {
  const makeBackend = deps.backends.get(spec.backend);
  if (makeBackend === undefined) {
    throw new RunSetupError(
      `unknown backend ${JSON.stringify(spec.backend)} (known: ${[...deps.backends.keys()].join(', ')})`,
    );
  }
  const system = deps.systems.get(spec.system);
  if (system === undefined) {
    throw new RunSetupError(
      `unknown system ${JSON.stringify(spec.system)} (known: ${[...deps.systems.keys()].join(', ')})`,
    );
  }
  const backend = makeBackend();
  const recipe = system.recipe();
  const problems =
    deps.nemesis.unsupported?.(spec.nemesis, backend, recipe) ??
    deps.nemesis
      .requiredCapabilities(spec.nemesis)
      .filter((c) => !backend.capabilities.has(c))
      .map(
        (c) =>
          `the ${backend.name} backend cannot do the ${c} fault (it can: ${[...backend.capabilities].join(', ') || 'nothing'})`,
      );
  if (problems.length > 0) {
    throw new RunSetupError(
      `${problems.join('; ')}: drop ${problems.length > 1 ? 'those faults' : 'that fault'} from --nemesis or pick another backend`,
    );
  }
  const nodes = nodeNames(spec.nodes);
  const rng = new Rng(spec.seed);
  const workload = buildWorkload(spec, deps, system);
  const plan = deps.nemesis.plan(spec.nemesis, nodes, rng.fork('nemesis'), spec.timeLimit * 1000);
  return { backend, system, recipe, workload, nodes, rng, plan };
}

/**
 * One run, as DESIGN.md's flow: cluster up, clients and nemesis until the time limit, stop
 * clients, heal every fault, wait the recovery time, final phase, tear down (on every exit path),
 * then check the history as written to disk and write results. Throws RunSetupError before
 * anything starts when the test cannot run.
 */
export async function runTest(
  spec: ResolvedSpec,
  deps: RunDeps,
  options: RunOptions = {},
): Promise<RunOutcome> {
  const { backend, system, recipe, workload, nodes, rng, plan } = prepare(spec, deps);
  const preflight = system.preflight?.();
  if (preflight !== undefined) throw new RunSetupError(preflight);
  const log = options.log ?? (() => {});
  const userSignal = options.signal ?? new AbortController().signal;

  const dir = createRunFolder(spec.out, spec.name);
  const runId = `fl-${Date.now().toString(36)}-${process.pid.toString(36)}-${rng.fork('run-id').int(0, 1e9).toString(36)}`;
  const testJson = {
    faultline: faultlineVersion(),
    node: process.version,
    runId,
    startedAt: new Date().toISOString(),
    seed: spec.seed,
    spec,
    nodes,
    plan,
    check: workload.check ?? { model: 'none' },
    status: 'running' as string,
  };
  writeJsonFile(join(dir, FILES.test), testJson);
  updateLatest(spec.out, dir);

  const recorder = new Recorder(join(dir, FILES.history));
  const warnings: string[] = [];
  const warn = (w: string) => {
    warnings.push(w);
    log(`warning: ${w}`);
  };

  // Progress counters and the faults in effect.
  const counts = { ok: 0, fail: 0, info: 0 };
  let phase: Phase = 'setup';
  let mainStart: number | undefined;
  let lastCompleted = 0;
  let lastTick = recorder.now();
  const nemesisEvents: HistoryEvent[] = [];
  const activeFaults = () =>
    nemesisIntervals(nemesisEvents)
      .filter((iv) => iv.interval && iv.end === Number.POSITIVE_INFINITY)
      .map((iv) => iv.kind)
      .join(', ');
  const recordNemesis = (e: EventInput) => {
    nemesisEvents.push(recorder.record({ ...e, process: 'nemesis', type: e.type ?? 'info' }));
  };
  const progress = (): Progress => {
    const now = recorder.now();
    const done = counts.ok + counts.fail + counts.info;
    const dt = (now - lastTick) / 1e9;
    const p: Progress = {
      phase,
      elapsedS: mainStart === undefined ? 0 : (now - mainStart) / 1e9,
      limitS: spec.timeLimit,
      opsPerS: dt > 0 ? (done - lastCompleted) / dt : 0,
      ...counts,
      faults: activeFaults(),
    };
    lastCompleted = done;
    lastTick = now;
    return p;
  };
  const ticker =
    options.onProgress === undefined
      ? undefined
      : setInterval(() => options.onProgress?.(progress()), options.progressMs ?? 1000);
  const setPhase = (p: Phase) => {
    phase = p;
    recorder.flush();
    log(`phase: ${p}`);
  };

  let cluster: Cluster | undefined;
  const clients: Client<Op>[] = [];
  let aborted = false;
  let setupError: unknown;
  const processes = new ProcessTable(spec.concurrency);
  try {
    log(`starting ${spec.nodes} ${system.name} nodes on the ${backend.name} backend`);
    cluster = await backend.createCluster({
      runId,
      recipe,
      nodes,
      settings: spec.settings,
      logsDir: join(dir, FILES.nodes),
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      signal: userSignal,
      rng: rng.fork('backend'),
    });
    const c = cluster;
    // Worker t is bound to node t mod n (its completions record it as `node`).
    for (let t = 0; t < spec.concurrency; t++) {
      const node = nodes[t % nodes.length] as NodeId;
      clients.push(workload.client.open(node, c.clientAddress(node)));
    }
    const onCompletion = (e: HistoryEvent) => {
      if (e.type === 'ok' || e.type === 'fail' || e.type === 'info') counts[e.type]++;
    };
    /** Runs the clients over `gen`; each thread draws from its own stream of the phase. */
    const drive = (gen: Gen<Op>, phaseLabel: string) =>
      interpret({
        gen,
        processes,
        client: (t) => clients[t] as Client<Op>,
        node: (t) => nodes[t % nodes.length] as NodeId,
        errors: workload.client.errors,
        rng: (t) => rng.fork(`${phaseLabel}/thread-${t}`),
        sink: recorder,
        opTimeoutMs: spec.opTimeout * 1000,
        signal: userSignal,
        onCompletion,
      });

    // Main phase: clients and nemesis together until the time limit.
    setPhase('main');
    mainStart = recorder.now();
    const nemesisStop = new AbortController();
    const stopNemesis = () => nemesisStop.abort();
    userSignal.addEventListener('abort', stopNemesis, { once: true });
    const deadline = setTimeout(stopNemesis, spec.timeLimit * 1000);
    const nemesisRun = deps.nemesis
      .run(plan, c, {
        record: recordNemesis,
        now: () => recorder.now(),
        signal: nemesisStop.signal,
      })
      .catch((e: unknown) => {
        recordNemesis({
          process: 'nemesis',
          type: 'info',
          f: 'nemesis-error',
          error: errorText(e),
        });
        warn(`the nemesis stopped early: ${errorText(e)}`);
      });
    await drive(
      timeLimit(spec.timeLimit * 1e9, stagger(1e9 / spec.rate, workload.generator)),
      'ops',
    );
    stopNemesis();
    clearTimeout(deadline);
    userSignal.removeEventListener('abort', stopNemesis);
    await nemesisRun;

    // Heal everything (even after Ctrl-C: the final state must be a healed cluster).
    setPhase('heal');
    recordNemesis({ process: 'nemesis', type: 'info', f: 'heal-all-start' });
    try {
      await c.healAll();
    } catch (e) {
      warn(`healing the cluster failed: ${errorText(e)}`);
    }
    for (const iv of nemesisIntervals(nemesisEvents)) {
      if (iv.interval && iv.end === Number.POSITIVE_INFINITY && iv.kind !== 'heal-all') {
        recordNemesis({ process: 'nemesis', type: 'info', f: closingF(iv.label), value: 'healed' });
      }
    }
    recordNemesis({ process: 'nemesis', type: 'info', f: 'heal-all-stop' });

    if (!userSignal.aborted && spec.recovery > 0) {
      setPhase('recovery');
      await sleep(spec.recovery * 1000, userSignal);
    }
    if (!userSignal.aborted && workload.finalGenerator !== undefined) {
      setPhase('final');
      // Bounded: a final phase that cannot finish must not hang the run.
      const guardNs = (spec.opTimeout * 4 + 10) * 1e9;
      await drive(timeLimit(guardNs, workload.finalGenerator), 'final');
    }
    if (!userSignal.aborted && workload.replicaReads !== undefined) {
      setPhase('converge');
      const r = await readReplicasUntilConverged(workload.replicaReads, c, nodes, {
        sink: recorder,
        // Above every client process id (ids only grow, and the clients are done).
        firstProcess:
          Math.max(...Array.from({ length: spec.concurrency }, (_, t) => processes.of(t))) + 1,
        // A replica dump is larger than one op's answer: at least 5 s.
        opTimeoutMs: Math.max(spec.opTimeout, 5) * 1000,
        signal: userSignal,
      });
      log(
        r.converged
          ? `replicas agreed after ${r.rounds} rounds of replica reads`
          : `replicas still disagreed after ${r.rounds} rounds (${workload.replicaReads.boundS} s): ${r.disagreeing.slice(0, 5).join(', ')}`,
      );
    }
    aborted = userSignal.aborted;
  } catch (e) {
    setupError = e;
  } finally {
    setPhase('teardown');
    await Promise.allSettled(clients.map((cl) => cl.close()));
    if (cluster !== undefined) {
      try {
        await cluster.teardown();
      } catch (e) {
        warn(`tearing the cluster down failed (run \`faultline clean\`): ${errorText(e)}`);
      }
    }
    if (ticker !== undefined) clearInterval(ticker);
    recorder.close();
  }

  if (setupError !== undefined && cluster === undefined) {
    writeJsonFile(join(dir, FILES.test), {
      ...testJson,
      status: 'failed',
      error: errorText(setupError),
    });
    throw new RunSetupError(`the cluster did not come up: ${errorText(setupError)}`);
  }
  if (setupError !== undefined) warn(`the run stopped on an error: ${errorText(setupError)}`);

  phase = 'check';
  log('phase: check');
  const outcome = await checkRun(dir, workload, spec, warnings);
  writeJsonFile(join(dir, FILES.test), {
    ...testJson,
    status: aborted ? 'aborted' : setupError !== undefined ? 'error' : 'complete',
    finishedAt: new Date().toISOString(),
    valid: outcome.results.valid,
    warnings,
  });
  phase = 'done';
  options.onProgress?.(progress());
  return { ...outcome, dir, seed: spec.seed, aborted, warnings };
}

/** The final convergence phase: one replica reader per node, polled by final-replica-reads. */
async function readReplicasUntilConverged(
  spec: ReplicaReadsSpec,
  cluster: Cluster,
  nodes: readonly NodeId[],
  run: { sink: Recorder; firstProcess: number; opTimeoutMs: number; signal: AbortSignal },
): Promise<ReplicaReadsOutcome> {
  const readers = new Map(nodes.map((n) => [n, spec.client.open(n, cluster.clientAddress(n))]));
  try {
    return await finalReplicaReads({
      nodes,
      client: (n) => readers.get(n) as Client<Op>,
      errors: spec.client.errors,
      boundMs: spec.boundS * 1000,
      replicasPerKey: spec.replicasPerKey,
      ...run,
    });
  } finally {
    await Promise.allSettled([...readers.values()].map((r) => r.close()));
  }
}

/** The part of a run folder's test.json that a re-check needs (the runner writes all of it). */
const runTestJsonSchema = z
  .object({
    spec: z.unknown(),
    seed: z.number(),
    warnings: z.array(z.string()).optional(),
  })
  .loose();

/**
 * Re-checks a run's results folder exactly as the run did: the workload's own checkers, built
 * from the spec in its test.json, over its history.jsonl; rewrites results.json, the timeline and
 * the plots. The verdict, the checkers' results and the warnings come out as the run wrote them.
 * Undefined when the folder's test.json does not record a run (no spec: a check model only).
 */
export async function recheckRunFolder(
  dir: string,
  deps: RunDeps,
): Promise<{ valid: Verdict; checkers: CheckerVerdict[]; results: Results } | undefined> {
  const file = join(dir, FILES.test);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // no readable test.json: `faultline check` says what is wrong with it
  }
  const parsed = runTestJsonSchema.safeParse(json);
  if (!parsed.success) return undefined;
  let spec: ResolvedSpec;
  try {
    spec = resolveSpec(parseSpec(parsed.data.spec, file), () => parsed.data.seed);
  } catch (e) {
    throw new RunSetupError(errorText(e));
  }
  const system = deps.systems.get(spec.system);
  if (system === undefined) throw new RunSetupError(`${file}: unknown system ${spec.system}`);
  const workload = buildWorkload(spec, deps, system);
  return checkRun(dir, workload, spec, parsed.data.warnings ?? []);
}

/** Checks the history as written (what `faultline check` reads) and writes results and timeline. */
async function checkRun(
  dir: string,
  workload: Workload,
  spec: ResolvedSpec,
  runWarnings: readonly string[],
): Promise<{ valid: Verdict; checkers: CheckerVerdict[]; results: Results }> {
  const started = performance.now();
  const history = await readJsonlHistory(join(dir, FILES.history));
  const events = history.events;
  const ops: ClientOp[] = pairOperations(events);
  const checkers: Record<string, Results['checkers'][string]> = {};
  const verdicts: CheckerVerdict[] = [];
  let timeline: TimelineInput | undefined;
  let partitions = 0;
  const timeoutMs = (spec.workload.options as { checkTimeout?: number }).checkTimeout;
  const checkerWarnings: string[] = [];
  for (const checker of workload.checkers) {
    let report: CheckerReport;
    try {
      report = await checker.check({
        events,
        ops,
        ...(typeof timeoutMs === 'number' ? { timeoutMs: timeoutMs * 1000 } : {}),
      });
    } catch (e) {
      // A verdict, never a crash: the other checkers' results and the history still count.
      const sentence = `the ${checker.name} checker could not judge the history: ${errorText(e)}`;
      checkerWarnings.push(sentence);
      report = { result: { valid: 'unknown', error: errorText(e), summary: [sentence] } };
    }
    checkers[checker.name] = report.result as Results['checkers'][string];
    verdicts.push({ name: checker.name, valid: report.result.valid });
    const parts = (report.result as { partitions?: unknown[] }).partitions;
    if (Array.isArray(parts)) partitions += parts.length;
    if (timeline === undefined || (report.timeline && report.result.valid !== true)) {
      timeline = report.timeline ?? timeline;
    }
  }
  const valid = combineVerdicts(verdicts.map((v) => v.valid));
  const results: Results = {
    faultline: RESULTS_VERSION,
    history: FILES.history,
    format: 'jsonl',
    valid,
    model: workload.check?.model ?? 'none',
    ops: ops.length,
    partitions,
    elapsedMs: performance.now() - started,
    warnings: [...runWarnings, ...history.warnings.map((w) => w.message), ...checkerWarnings],
    checkers,
  };
  await writeResults(dir, results);
  const title = `${spec.name} (seed ${spec.seed})`;
  writeFileSync(join(dir, FILES.latency), latencySvg(title, ops, events));
  writeFileSync(join(dir, FILES.rate), rateSvg(title, ops, events));
  if (timeline !== undefined) {
    const html = renderTimeline(
      { ...timeline, title: `${spec.name} (seed ${spec.seed})` },
      { maxOps: 400, maxPartitions: 4 },
    );
    writeFileSync(join(dir, FILES.timeline), html);
  }
  return { valid, checkers: verdicts, results };
}
