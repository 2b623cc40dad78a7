import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import { pairOperations } from '../checker/history/pair.js';
import type { Verdict } from '../checker/porcupine/types.js';
import type { Results } from '../checker/results.js';
import { RESULTS_VERSION, writeResults } from '../checker/results.js';
import type { TimelineInput } from '../checker/timeline/index.js';
import { closingEventFor, nemesisIntervals, renderTimeline } from '../checker/timeline/index.js';
import type { Client, Op } from '../core/client.js';
import type { Backend, Cluster, NodeId } from '../core/cluster.js';
import type { EventInput } from '../core/event.js';
import type { NemesisDriver } from '../core/nemesis.js';
import { Rng } from '../core/random.js';
import type { SystemDefinition } from '../core/system.js';
import type { Gen } from '../generators/index.js';
import { stagger, timeLimit } from '../generators/index.js';
import type {
  CheckerReport,
  RegisteredWorkload,
  ReplicaReadsSpec,
  Workload,
} from '../workloads/index.js';
import type { ReplicaReadsOutcome } from './final-replica-reads.js';
import { finalReplicaReads } from './final-replica-reads.js';
import { interpret, ProcessTable } from './interpreter.js';
import { latencySvg, rateSvg } from './plots.js';
import { Recorder } from './recorder.js';
import {
  createRunFolder,
  FILES,
  faultlineVersion,
  updateLatest,
  writeJsonFile,
} from './results-folder.js';
import type { CheckerJudgement, RecordedStatus, RunStatus, RunVerdict } from './run-verdict.js';
import { evidenceProblems, judgeRun, RUN_STATUSES, verdictAsValid } from './run-verdict.js';
import type { ResolvedSpec } from './spec.js';
import { parseSpec, resolveSpec } from './spec.js';

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

export interface RunOutcome extends CheckedRun {
  dir: string;
  seed: number;
  /** How far the run got. */
  status: RunStatus;
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
  const shortfall = deps.nemesis.shortfall?.(spec.nemesis, plan);
  if (shortfall !== undefined) throw new RunSetupError(shortfall);
  return { backend, system, recipe, workload, nodes, rng, plan };
}

/** A bug in faultline stopped the run: the CLI exits 4 and points at the log with the stack. */
export class InternalError extends Error {
  override readonly name = 'InternalError';
  constructor(
    message: string,
    /** The file holding the stack trace. */
    readonly logFile: string,
  ) {
    super(message);
  }
}

/** What test.json records of a run besides the spec (written at the start, updated at the end). */
interface RunRecord {
  status: RecordedStatus;
  [field: string]: unknown;
}

/** The last lines of each node's stderr that says more than our own start stamps. */
function nodeStderrTails(logsDir: string, nodes: readonly NodeId[], lines = 8): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    let text: string;
    try {
      text = readFileSync(join(logsDir, n, 'stderr.log'), 'utf8');
    } catch {
      continue;
    }
    const own = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--- faultline:'));
    if (own.length === 0) continue;
    out.push(`${n} stderr (last lines):`, ...own.slice(-lines).map((l) => `  ${l}`));
  }
  return out;
}

/**
 * One run, as docs describe it: cluster up, clients and nemesis until the time limit, stop
 * clients, heal every fault, wait the recovery time, final phase, tear down (on every exit path),
 * then check the history as written to disk and write results. Throws RunSetupError before
 * anything starts when the test cannot run, or when the cluster does not come up (status
 * `failed-to-start`); InternalError when a bug in faultline stopped it (status `crashed`).
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
  const record: RunRecord = {
    faultline: faultlineVersion(),
    node: process.version,
    runId,
    // Who runs it: a re-check or `faultline clean` finds a run whose process is gone (crashed).
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    seed: spec.seed,
    spec,
    nodes,
    plan,
    check: workload.check ?? { model: 'none' },
    status: 'running',
  };
  const saveRecord = (fields: Partial<RunRecord>) => {
    Object.assign(record, fields);
    writeJsonFile(join(dir, FILES.test), record);
  };
  saveRecord({});

  try {
    return await runStages(spec, deps, options, {
      dir,
      runId,
      backend,
      system,
      recipe,
      workload,
      nodes,
      rng,
      plan,
      log,
      userSignal,
      saveRecord,
    });
  } catch (e) {
    if (e instanceof RunSetupError) throw e;
    // A bug: keep the stack in the run folder, mark the run crashed, and say where to look.
    const logFile = join(dir, 'error.log');
    writeFileSync(logFile, `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    saveRecord({ status: 'crashed', error: errorText(e), finishedAt: new Date().toISOString() });
    throw new InternalError(errorText(e), logFile);
  }
}

interface RunContext {
  dir: string;
  runId: string;
  backend: Backend;
  system: SystemDefinition;
  recipe: ReturnType<SystemDefinition['recipe']>;
  workload: Workload;
  nodes: NodeId[];
  rng: Rng;
  plan: unknown;
  log: (line: string) => void;
  userSignal: AbortSignal;
  saveRecord: (fields: Partial<RunRecord>) => void;
}

async function runStages(
  spec: ResolvedSpec,
  deps: RunDeps,
  options: RunOptions,
  ctx: RunContext,
): Promise<RunOutcome> {
  const { dir, runId, backend, system, recipe, workload, nodes, rng, plan, log, userSignal } = ctx;
  const recorder = new Recorder(join(dir, FILES.history));
  // A hard exit mid-run (a second Ctrl-C): what was recorded reaches the disk, and test.json says
  // the run was stopped rather than leaving it "running".
  const onHardExit = () => {
    recorder.flush();
    ctx.saveRecord({ status: 'aborted', error: 'the harness exited before the run finished' });
  };
  process.once('exit', onHardExit);
  const warnings: string[] = [];
  const warn = (w: string) => {
    warnings.push(w);
    log(`warning: ${w}`);
  };
  /** Things the run planned and did not do: each one is a reason the verdict is not valid. */
  const problems: string[] = [];
  const problem = (p: string) => {
    problems.push(p);
    warn(p);
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
  let stopError: unknown;
  let phaseAtStop: Phase | undefined;
  let stopAt = 0;
  const noteStop = () => {
    phaseAtStop ??= phase;
    stopAt ||= recorder.now();
  };
  userSignal.addEventListener('abort', noteStop, { once: true });
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
    // Only a run whose cluster came up becomes `latest`.
    updateLatest(spec.out, dir);
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
        problem(`the nemesis stopped early: ${errorText(e)}`);
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
      problem(`healing the cluster failed: ${errorText(e)}`);
    }
    for (const iv of nemesisIntervals(nemesisEvents)) {
      if (iv.interval && iv.end === Number.POSITIVE_INFINITY && iv.kind !== 'heal-all') {
        recordNemesis({
          process: 'nemesis',
          type: 'info',
          f: closingEventFor(iv.label),
          value: 'healed',
        });
      }
    }
    recordNemesis({ process: 'nemesis', type: 'info', f: 'heal-all-stop' });

    if (!userSignal.aborted && spec.recovery > 0) {
      setPhase('recovery');
      // On the history's clock: a timer may fire a fraction of a millisecond early.
      const until = recorder.now() + spec.recovery * 1e9;
      while (!userSignal.aborted && recorder.now() < until) {
        await sleep(Math.max(1, Math.ceil((until - recorder.now()) / 1e6)), userSignal);
      }
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
  } catch (e) {
    noteStop();
    stopError = e;
  } finally {
    userSignal.removeEventListener('abort', noteStop);
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
    process.off('exit', onHardExit);
  }

  if (cluster === undefined && !userSignal.aborted) {
    // The cluster never came up: say why, with what the nodes themselves said.
    const tails = nodeStderrTails(join(dir, FILES.nodes), nodes);
    ctx.saveRecord({
      status: 'failed-to-start',
      error: errorText(stopError),
      finishedAt: new Date().toISOString(),
    });
    throw new RunSetupError(
      [`the cluster did not come up: ${errorText(stopError)}`, ...tails].join('\n'),
    );
  }
  const aborted = userSignal.aborted;
  let status: RunStatus = 'complete';
  let statusDetail: string | undefined;
  if (stopError !== undefined) {
    status = 'crashed';
    statusDetail = `in the ${phaseAtStop} phase: ${errorText(stopError)}`;
    warn(`the run stopped on an error ${statusDetail}`);
  } else if (aborted) {
    status = 'aborted';
    const into = mainStart === undefined ? 0 : (stopAt - mainStart) / 1e9;
    statusDetail = `stopped in the ${phaseAtStop} phase, ${into.toFixed(1)} s into a ${spec.timeLimit} s run`;
  }
  // The run's own status is on disk before checking starts: a crash in a checker cannot hide it.
  ctx.saveRecord({
    status,
    ...(statusDetail ? { error: statusDetail } : {}),
    warnings,
    problems,
  });

  phase = 'check';
  log('phase: check');
  const outcome = await checkRun(dir, workload, spec, {
    status,
    ...(statusDetail !== undefined ? { statusDetail } : {}),
    warnings,
    problems,
    plan,
    nemesis: deps.nemesis,
  });
  ctx.saveRecord({
    finishedAt: new Date().toISOString(),
    valid: outcome.valid,
    verdict: outcome.verdict,
    reasons: outcome.reasons,
  });
  phase = 'done';
  options.onProgress?.(progress());
  return { ...outcome, dir, seed: spec.seed, aborted, status, warnings };
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
    plan: z.unknown().optional(),
    status: z.string().optional(),
    error: z.string().optional(),
    pid: z.number().int().optional(),
    host: z.string().optional(),
    warnings: z.array(z.string()).optional(),
    problems: z.array(z.string()).optional(),
  })
  .loose();

/** Whether process `pid` is alive on this machine. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A run's status as test.json records it, with a crash found: a run still marked `running` whose
 * process is gone (killed, machine restarted) is `crashed`, and test.json is updated to say so.
 * `running` stays when its process still runs here (or ran on another host: unknowable).
 */
export function settleRunStatus(
  dir: string,
): { status: RecordedStatus; crashFound: boolean; error?: string } | undefined {
  const file = join(dir, FILES.test);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (json.status !== 'running') {
    const status = normalStatus(json.status);
    return status === undefined ? undefined : { status, crashFound: false };
  }
  const pid = typeof json.pid === 'number' ? json.pid : undefined;
  const here = json.host === undefined || json.host === hostname();
  const alive = pid !== undefined && pid !== process.pid && processAlive(pid);
  if (!here || alive) return { status: 'running', crashFound: false };
  const error =
    'its process is gone (killed, or the machine stopped) while the run was in progress';
  writeJsonFile(file, {
    ...json,
    status: 'crashed',
    error,
    crashDetectedAt: new Date().toISOString(),
  });
  return { status: 'crashed', crashFound: true, error };
}

/** Statuses of older test.json files ("error", "failed") in today's words. */
function normalStatus(status: unknown): RecordedStatus | undefined {
  if (status === 'error') return 'crashed';
  if (status === 'failed') return 'failed-to-start';
  return RUN_STATUSES.includes(status as RunStatus) || status === 'running'
    ? (status as RecordedStatus)
    : undefined;
}

/**
 * Re-checks a run's results folder exactly as the run did: the workload's own checkers, built
 * from the spec in its test.json, over its history.jsonl; rewrites results.json, the timeline and
 * the plots. The verdict, the checkers' results and the warnings come out as the run wrote them.
 * A run cut short (crashed, aborted, still running) is judged as such: never `valid`.
 * Undefined when the folder's test.json does not record a run (no spec: a check model only).
 */
export async function recheckRunFolder(
  dir: string,
  deps: RunDeps,
): Promise<CheckedRun | undefined> {
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
  const settled = settleRunStatus(dir);
  const recorded = settled?.status ?? 'crashed';
  const status: RunStatus = recorded === 'running' ? 'aborted' : recorded;
  const detail =
    recorded === 'running'
      ? 'the run is still in progress (its process is alive): this checks the history so far'
      : (settled?.error ?? parsed.data.error);
  return checkRun(dir, workload, spec, {
    status,
    ...(detail !== undefined && status !== 'complete' ? { statusDetail: detail } : {}),
    warnings: parsed.data.warnings ?? [],
    problems: parsed.data.problems ?? [],
    plan: parsed.data.plan,
    nemesis: deps.nemesis,
  });
}

/** A checked run: the checkers' verdicts and the run's verdict with its reasons. */
export interface CheckedRun {
  /** The run's verdict in the checkers' terms (true / false / "unknown"). */
  valid: Verdict;
  verdict: RunVerdict;
  reasons: string[];
  checkers: CheckerVerdict[];
  results: Results;
}

interface RunFacts {
  status: RunStatus;
  statusDetail?: string;
  warnings: readonly string[];
  /** What the run planned and did not do (heal failed, nemesis stopped early). */
  problems: readonly string[];
  /** The fault plan (test.json), audited against the history's nemesis events. */
  plan: unknown;
  nemesis: NemesisDriver;
}

/** Why a checker said "unknown", in its own words when it gave any. */
function unknownReason(result: Results['checkers'][string]): string | undefined {
  const parts = (result as { partitions?: { key: string; valid: Verdict; reason?: string }[] })
    .partitions;
  const undecided = parts?.filter((p) => p.valid === 'unknown') ?? [];
  if (undecided.length > 0) {
    const first = undecided[0]!;
    const where = first.key === '' ? 'the history' : `key ${first.key}`;
    const more = undecided.length > 1 ? ` (and ${undecided.length - 1} more keys)` : '';
    return `${where}: ${first.reason ?? 'no verdict'}${more}`;
  }
  const r = result as { reason?: unknown; error?: unknown; summary?: unknown };
  for (const v of [r.reason, r.error]) if (typeof v === 'string') return v;
  if (Array.isArray(r.summary) && typeof r.summary[0] === 'string') return r.summary[0];
  return undefined;
}

/** Checks the history as written (what `faultline check` reads) and writes results and timeline. */
async function checkRun(
  dir: string,
  workload: Workload,
  spec: ResolvedSpec,
  facts: RunFacts,
): Promise<CheckedRun> {
  const started = performance.now();
  const history = await readJsonlHistory(join(dir, FILES.history));
  const events = history.events;
  const ops: ClientOp[] = pairOperations(events);
  const checkers: Record<string, Results['checkers'][string]> = {};
  const verdicts: CheckerVerdict[] = [];
  const judgements: CheckerJudgement[] = [];
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
    const result = report.result as Results['checkers'][string];
    checkers[checker.name] = result;
    verdicts.push({ name: checker.name, valid: result.valid });
    const reason = result.valid === 'unknown' ? unknownReason(result) : undefined;
    judgements.push({ name: checker.name, valid: result.valid, ...(reason ? { reason } : {}) });
    const parts = (result as { partitions?: unknown[] }).partitions;
    if (Array.isArray(parts)) partitions += parts.length;
    if (timeline === undefined || (report.timeline && result.valid !== true)) {
      timeline = report.timeline ?? timeline;
    }
  }
  const faultProblems =
    facts.plan !== undefined && facts.nemesis.audit ? facts.nemesis.audit(facts.plan, events) : [];
  const judgement = judgeRun({
    status: facts.status,
    ...(facts.statusDetail !== undefined ? { statusDetail: facts.statusDetail } : {}),
    checkers: judgements,
    faultProblems: [...facts.problems, ...faultProblems],
    evidenceProblems: evidenceProblems(ops, spec.evidence, workload.checkedPerKey === true),
  });
  const valid = verdictAsValid(judgement.verdict);
  const results: Results = {
    faultline: RESULTS_VERSION,
    history: FILES.history,
    format: 'jsonl',
    valid,
    model: workload.check?.model ?? 'none',
    ops: ops.length,
    partitions,
    elapsedMs: performance.now() - started,
    warnings: [...facts.warnings, ...history.warnings.map((w) => w.message), ...checkerWarnings],
    run: { status: facts.status, verdict: judgement.verdict, reasons: judgement.reasons },
    checkers,
  };
  writeReport(dir, spec, ops, events, timeline, results.warnings);
  await writeResults(dir, results);
  return { valid, ...judgement, checkers: verdicts, results };
}

/**
 * The pictures: plots and timeline. They explain the verdict but are not part of it, so a
 * failure to draw one is a warning in results.json (with the stack in error.log), not a crash.
 */
function writeReport(
  dir: string,
  spec: ResolvedSpec,
  ops: readonly ClientOp[],
  events: readonly HistoryEvent[],
  timeline: TimelineInput | undefined,
  warnings: string[],
): void {
  const title = `${spec.name} (seed ${spec.seed})`;
  const draw = (file: string, render: () => string) => {
    try {
      writeFileSync(join(dir, file), render());
    } catch (e) {
      warnings.push(
        `could not draw ${file} (a bug in faultline; stack in error.log): ${errorText(e)}`,
      );
      writeFileSync(join(dir, 'error.log'), `${e instanceof Error ? e.stack : String(e)}\n`, {
        flag: 'a',
      });
    }
  };
  draw(FILES.latency, () => latencySvg(title, ops, events));
  draw(FILES.rate, () => rateSvg(title, ops, events));
  if (timeline !== undefined) {
    draw(FILES.timeline, () =>
      renderTimeline({ ...timeline, title }, { maxOps: 400, maxPartitions: 4 }),
    );
  }
}
