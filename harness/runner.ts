import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, Op } from '../core/client.js';
import type { Cluster } from '../core/cluster.js';
import { ProcessTable } from './interpreter.js';
import { Recorder } from './recorder.js';
import { createRunFolder, FILES, faultlineVersion, updateLatest } from './results-folder.js';
import type { CheckedRun } from './run/check.js';
import { checkRun } from './run/check.js';
import { ClusterStartError, clientContext, clusterUp, openClients } from './run/cluster-up.js';
import { driver, mainPhase } from './run/drive.js';
import { errorText, InternalError, RunSetupError } from './run/errors.js';
import { finalPhase } from './run/final-phase.js';
import { healStage } from './run/heal.js';
import type { LeaderObserver } from './run/observe-leader.js';
import { observeLeader } from './run/observe-leader.js';
import type { Prepared, RunDeps } from './run/prepare.js';
import { buildWorkload, prepare } from './run/prepare.js';
import { writeProgressFile } from './run/progress-file.js';
import { RunRecordFile, runnerIdentity, runTestJsonSchema, settleRunStatus } from './run/record.js';
import type { Progress } from './run/session.js';
import { RunSession } from './run/session.js';
import type { RunStatus } from './run-verdict.js';
import type { ResolvedSpec } from './spec.js';
import { parseSpec, resolveSpec } from './spec.js';

export type { CheckedRun, CheckerVerdict } from './run/check.js';
export { InternalError, RunSetupError } from './run/errors.js';
export type { RunDeps } from './run/prepare.js';
export { nodeNames, prepare } from './run/prepare.js';
export { settleRunStatus } from './run/record.js';
export type { Phase, Progress } from './run/session.js';

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
  /** How often the system's leader hook is asked who leads, when it has one (default 500 ms). */
  leaderPollMs?: number;
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

/**
 * One run, as a pipeline of stages (harness/run/): prepare, cluster up, drive with nemesis,
 * heal, final phase, then teardown on every exit path, check and report. Throws RunSetupError
 * before anything starts when the test cannot run, or when the cluster does not come up (status
 * `failed-to-start`); InternalError when a bug in faultline stopped it (status `crashed`).
 */
export async function runTest(
  spec: ResolvedSpec,
  deps: RunDeps,
  options: RunOptions = {},
): Promise<RunOutcome> {
  const prepared = prepare(spec, deps);
  const preflight = prepared.system.preflight?.();
  if (preflight !== undefined) throw new RunSetupError(preflight);

  const dir = createRunFolder(spec.out, spec.name);
  const runId = `fl-${Date.now().toString(36)}-${process.pid.toString(36)}-${prepared.rng.fork('run-id').int(0, 1e9).toString(36)}`;
  const record = new RunRecordFile(dir, {
    faultline: faultlineVersion(),
    node: process.version,
    runId,
    ...runnerIdentity(),
    startedAt: new Date().toISOString(),
    seed: spec.seed,
    spec,
    nodes: prepared.nodes,
    plan: prepared.plan,
    check: prepared.workload.check ?? { model: 'none' },
    status: 'running',
  });
  try {
    return await runStages(spec, deps, options, prepared, { dir, runId, record });
  } catch (e) {
    if (e instanceof RunSetupError) throw e;
    // A bug: keep the stack in the run folder, mark the run crashed, and say where to look.
    const logFile = join(dir, 'error.log');
    writeFileSync(logFile, `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    record.save({ status: 'crashed', error: errorText(e), finishedAt: new Date().toISOString() });
    throw new InternalError(errorText(e), logFile);
  }
}

async function runStages(
  spec: ResolvedSpec,
  deps: RunDeps,
  options: RunOptions,
  prepared: Prepared,
  run: { dir: string; runId: string; record: RunRecordFile },
): Promise<RunOutcome> {
  const { dir, record } = run;
  const { workload, nodes, rng, plan } = prepared;
  const signal = options.signal ?? new AbortController().signal;
  const recorder = new Recorder(join(dir, FILES.history));
  const session = new RunSession(
    recorder,
    signal,
    options.log ?? (() => {}),
    spec.timeLimit,
    deps.nemesis.kinds,
  );
  // A hard exit mid-run (a second Ctrl-C): what was recorded reaches the disk, and test.json says
  // the run was stopped rather than leaving it "running".
  const onHardExit = () => {
    recorder.flush();
    record.save({ status: 'aborted', error: 'the harness exited before the run finished' });
  };
  process.once('exit', onHardExit);
  // One tick feeds both the caller's progress line and progress.json (for `faultline serve`),
  // as progress() measures the rate since the tick before.
  const tickMs = options.progressMs ?? 1000;
  let lastFileWrite = 0;
  const ticker = setInterval(() => {
    const p = session.progress();
    options.onProgress?.(p);
    if (Date.now() - lastFileWrite >= Math.max(tickMs, 2000)) {
      lastFileWrite = Date.now();
      writeProgressFile(dir, p);
    }
  }, tickMs);
  const noteStop = () => session.noteStop();
  signal.addEventListener('abort', noteStop, { once: true });

  let cluster: Cluster | undefined;
  let startError: ClusterStartError | undefined;
  let stopError: unknown;
  const clients: Client<Op>[] = [];
  const processes = new ProcessTable(spec.concurrency);
  let leaderObserver: LeaderObserver | undefined;
  try {
    session.note(
      `starting ${spec.nodes} ${prepared.system.name} nodes on the ${prepared.backend.name} backend`,
    );
    cluster = await clusterUp({
      prepared,
      runId: run.runId,
      settings: spec.settings,
      logsDir: join(dir, FILES.nodes),
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      signal,
    });
    // Only a run whose cluster came up becomes `latest`.
    updateLatest(spec.out, dir);
    openClients(
      workload,
      cluster,
      clientContext(cluster, spec.settings),
      spec.concurrency,
      clients,
    );
    const drive = driver({
      session,
      clients,
      nodes,
      processes,
      workload,
      rng,
      opTimeoutMs: spec.opTimeout * 1000,
    });
    // Who leads, as the system says, recorded at each change from here to the final phase's end.
    leaderObserver = observeLeader({
      system: prepared.system,
      cluster,
      recorder,
      ...(options.leaderPollMs !== undefined ? { intervalMs: options.leaderPollMs } : {}),
    });
    await mainPhase({
      session,
      drive,
      cluster,
      nemesis: deps.nemesis,
      system: prepared.system,
      settings: spec.settings,
      plan,
      workload,
      timeLimitS: spec.timeLimit,
      rate: spec.rate,
    });
    await healStage(session, cluster, deps.nemesis.kinds);
    await finalPhase({
      session,
      drive,
      cluster,
      nodes,
      processes,
      workload,
      settings: spec.settings,
      recoveryS: spec.recovery,
      opTimeoutS: spec.opTimeout,
      concurrency: spec.concurrency,
    });
  } catch (e) {
    session.noteStop();
    if (e instanceof ClusterStartError) startError = e;
    else stopError = e;
  } finally {
    signal.removeEventListener('abort', noteStop);
    await leaderObserver?.stop();
    session.setPhase('teardown');
    await Promise.allSettled(clients.map((cl) => cl.close()));
    if (cluster !== undefined) {
      try {
        await cluster.teardown();
      } catch (e) {
        session.warn(`tearing the cluster down failed (run \`faultline clean\`): ${errorText(e)}`);
      }
    }
    clearInterval(ticker);
    recorder.close();
    process.off('exit', onHardExit);
  }

  if (startError !== undefined && !signal.aborted) {
    // The cluster never came up: say why, with what the nodes themselves said.
    record.save({
      status: 'failed-to-start',
      error: startError.message,
      finishedAt: new Date().toISOString(),
    });
    throw new RunSetupError(
      [`the cluster did not come up: ${startError.message}`, ...startError.nodeOutput].join('\n'),
    );
  }
  const aborted = signal.aborted;
  let status: RunStatus = 'complete';
  let statusDetail: string | undefined;
  if (stopError !== undefined) {
    status = 'crashed';
    statusDetail = `in the ${session.stoppedIn} phase: ${errorText(stopError)}`;
    session.warn(`the run stopped on an error ${statusDetail}`);
  } else if (aborted) {
    status = 'aborted';
    const into =
      session.mainStart === undefined ? 0 : (session.stoppedAt - session.mainStart) / 1e9;
    statusDetail = `stopped in the ${session.stoppedIn} phase, ${into.toFixed(1)} s into a ${spec.timeLimit} s run`;
  }
  const { warnings, problems } = session;
  // The run's own status is on disk before checking starts: a crash in a checker cannot hide it.
  record.save({
    status,
    ...(statusDetail ? { error: statusDetail } : {}),
    warnings,
    problems,
  });

  session.setPhase('check');
  const outcome = await checkRun(dir, workload, spec, {
    status,
    ...(statusDetail !== undefined ? { statusDetail } : {}),
    warnings,
    problems,
    plan,
    nemesis: deps.nemesis,
  });
  record.save({
    finishedAt: new Date().toISOString(),
    valid: outcome.valid,
    verdict: outcome.verdict,
    reasons: outcome.reasons,
  });
  session.phase = 'done';
  const last = session.progress();
  writeProgressFile(dir, last);
  options.onProgress?.(last);
  return { ...outcome, dir, seed: spec.seed, aborted, status, warnings };
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
