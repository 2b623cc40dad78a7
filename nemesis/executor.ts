import type { Cluster, NodeId } from '../core/cluster.js';
import type { FaultKind, FaultStartContext, FaultStep, MembershipIO } from '../core/nemesis.js';
import type { BUILTIN_KINDS } from './kinds/index.js';
import { loose } from './plan.js';
import type {
  AnyFaultKind,
  FaultKinds,
  FaultPlanOf,
  LoosePlannedFault,
  PlanEntryOf,
} from './registry.js';

/**
 * One nemesis event as it goes into the history. Besides `f` and `value` (the grudge, the node
 * list, ...) it carries when it was due and when the primitive was called, on the history's
 * clock (ns since the run started): lateness = startedTime - scheduledTime; how long the
 * backend took = the event's own time - startedTime.
 */
// A type alias, not an interface: the recorder's event type has an index signature.
export type NemesisEvent = {
  process: 'nemesis';
  type: 'info';
  /** The fault kind's start or stop event (nemesis/kinds/), or `heal`. */
  f: string;
  value: unknown;
  /** Index of the plan entry (absent for heal). */
  fault?: number;
  scheduledTime: number;
  startedTime: number;
  /** Set when the backend primitive failed (the event still marks the attempt). */
  error?: string;
};

export interface NemesisIO {
  /** Append the event to the history (process "nemesis"). */
  record(event: NemesisEvent): void;
  /** ns since the run started: the history's clock. */
  now(): number;
  /** Aborted at the time limit or when the run stops: return promptly, undo nothing. */
  signal: AbortSignal;
  /**
   * The node leading now, undefined while none does (the system's `leader` hook, wired by the
   * run engine). Absent: faults aimed at the leader fail (the runner refuses them beforehand).
   */
  leader?(): Promise<NodeId | undefined>;
  /** The system's membership changes (absent: membership faults fail; refused beforehand). */
  membership?: MembershipIO;
}

export interface NemesisOutcome {
  /** Faults started. */
  started: number;
  /** Faults started and stopped. */
  stopped: number;
  aborted: boolean;
}

const NS_PER_MS = 1e6;

/** Resolves at `atNs` on io's clock (never before: timers may fire a little early), or early (false) on abort. */
async function sleepUntil(io: NemesisIO, atNs: number): Promise<boolean> {
  for (;;) {
    if (io.signal.aborted) return false;
    const ms = (atNs - io.now()) / NS_PER_MS;
    if (ms <= 0) return true;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        io.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, Math.ceil(ms)));
      io.signal.addEventListener('abort', done, { once: true });
    });
  }
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface Step extends FaultStep {
  f: string;
}

/** What starting and stopping a (concrete) fault mean: its kind's steps, with its event names. */
function steps(kind: FaultKind, fault: LoosePlannedFault): { start: Step; stop: Step } {
  return {
    start: { f: kind.events.open, ...kind.start(fault) },
    stop: { f: kind.events.close, ...kind.stop(fault) },
  };
}

/** How often a fault aimed at the leader asks again while no node leads. */
export const LEADER_POLL_MS = 200;

class Aborted extends Error {}

/**
 * Who leads, for a fault starting now. While no node leads (an election in progress, often right
 * after the previous fault) it asks again every LEADER_POLL_MS until `untilNs` (half the fault's
 * window: a fault that does hit lasts at least half its planned time); then it rejects, saying
 * so, and the start event records that as its `error` (the audit reports it; the verdict is
 * unknown). A failing hook counts as "no answer" and is asked again the same way.
 */
async function leaderBy(io: NemesisIO, nodes: readonly NodeId[], untilNs: number): Promise<NodeId> {
  if (io.leader === undefined) {
    throw new Error('no leader to aim at: the system has no leader hook');
  }
  const since = io.now();
  let last = 'no node leads';
  for (;;) {
    try {
      const leader = await io.leader();
      if (leader !== undefined && nodes.includes(leader)) return leader;
      last =
        leader === undefined
          ? 'no node leads'
          : `the system named ${JSON.stringify(leader)}, not a node of this run`;
    } catch (e) {
      last = `asking who leads failed: ${errorText(e)}`;
    }
    if (io.signal.aborted) throw new Aborted();
    const next = io.now() + LEADER_POLL_MS * NS_PER_MS;
    if (next > untilNs) break;
    if (!(await sleepUntil(io, next))) throw new Aborted();
  }
  const waited = Math.round((io.now() - since) / NS_PER_MS);
  throw new Error(`no leader to aim at: ${last} (asked for ${waited} ms from the fault's start)`);
}

async function perform(
  step: Step,
  entry: { index: number },
  cluster: Cluster,
  scheduledTime: number,
  io: NemesisIO,
  /** A fault that could not be resolved does nothing: its start records why (`error`). */
  skip?: { error?: string },
): Promise<void> {
  const startedTime = io.now();
  let error = skip?.error;
  if (skip === undefined) {
    try {
      await step.act(cluster, io.membership === undefined ? {} : { membership: io.membership });
    } catch (e) {
      error = errorText(e);
    }
  }
  const event: NemesisEvent = {
    process: 'nemesis',
    type: 'info',
    f: step.f,
    value: step.value,
    scheduledTime: Math.round(scheduledTime),
    startedTime,
    fault: entry.index,
  };
  if (error !== undefined) event.error = error;
  io.record(event);
}

/**
 * Carry out the plan through the cluster's primitives, each fault at its time (offsets from
 * when this is called). A primitive that fails is recorded (the event's `error`) and the plan
 * goes on. On abort it returns at once, leaving faults in place: healing is the runner's
 * (`cluster.healAll()`, or `healAllRecorded`). `kinds`: the registry the plan was made with
 * (faultline's own when left out).
 */
export async function runNemesis<K extends readonly AnyFaultKind[] = typeof BUILTIN_KINDS>(
  plan: FaultPlanOf<K>,
  cluster: Cluster,
  io: NemesisIO,
  kinds?: FaultKinds<K>,
): Promise<NemesisOutcome> {
  const reg = loose(kinds);
  const t0 = io.now();
  const outcome: NemesisOutcome = { started: 0, stopped: 0, aborted: false };
  for (const entry of plan.entries as PlanEntryOf<readonly AnyFaultKind[]>[]) {
    const kind = reg.kind((entry.fault as LoosePlannedFault).kind);
    const startAt = t0 + entry.startMs * NS_PER_MS;
    const stopAt = startAt + entry.durationMs * NS_PER_MS;
    if (!(await sleepUntil(io, startAt))) {
      outcome.aborted = true;
      return outcome;
    }
    // A fault aimed at the leader names its nodes now; start and stop both use what it names,
    // so the start event records the nodes hit and the stop undoes exactly those.
    let fault = entry.fault as LoosePlannedFault;
    let unresolved: string | undefined;
    if (kind.resolve !== undefined) {
      const context: FaultStartContext = {
        nodes: plan.nodes,
        leader: () => leaderBy(io, plan.nodes, startAt + (entry.durationMs / 2) * NS_PER_MS),
      };
      if (io.membership !== undefined) context.membership = io.membership;
      try {
        fault = (await kind.resolve(fault, context)) as LoosePlannedFault;
      } catch (e) {
        if (e instanceof Aborted || io.signal.aborted) {
          outcome.aborted = true;
          return outcome;
        }
        unresolved = errorText(e);
      }
    }
    const { start, stop } = steps(kind, fault);
    const skip = unresolved === undefined ? undefined : { error: unresolved };
    await perform(start, entry, cluster, startAt, io, skip);
    outcome.started += 1;
    if (!(await sleepUntil(io, stopAt))) {
      outcome.aborted = true;
      return outcome;
    }
    // Unresolved, it hit nothing: the stop is recorded (closing the fault's window) and undoes nothing.
    await perform(stop, entry, cluster, stopAt, io, skip === undefined ? undefined : {});
    outcome.stopped += 1;
  }
  return outcome;
}

/** `cluster.healAll()` recorded as a `heal` event (value: what was healed, or the error). */
export async function healAllRecorded(
  cluster: Cluster,
  io: Pick<NemesisIO, 'record' | 'now'>,
): Promise<void> {
  const startedTime = io.now();
  let error: string | undefined;
  try {
    await cluster.healAll();
  } catch (e) {
    error = errorText(e);
  }
  const event: NemesisEvent = {
    process: 'nemesis',
    type: 'info',
    f: 'heal',
    value: 'all',
    scheduledTime: startedTime,
    startedTime,
  };
  if (error !== undefined) event.error = error;
  io.record(event);
  if (error !== undefined) throw new Error(`heal all: ${error}`);
}
