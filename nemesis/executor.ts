import type { Cluster, Grudge, LinkFault, NodeId } from '../core/cluster.js';
import type { FaultPlan, PlanEntry, PlannedFault } from './schema.js';

/** The `f` of every nemesis event (the timeline shades the intervals they open and close). */
export type NemesisF =
  | 'partition-start'
  | 'partition-stop'
  | 'kill'
  | 'start'
  | 'pause'
  | 'resume'
  | 'link-start'
  | 'link-stop'
  | 'clock-offset'
  | 'clock-reset'
  | 'heal';

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
  f: NemesisF;
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

/** Run `op` on every node at once; the first failure's message, if any. */
async function onEach(
  nodes: readonly NodeId[],
  op: (n: NodeId) => Promise<void>,
): Promise<string | undefined> {
  const results = await Promise.allSettled(nodes.map(op));
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${nodes[i]}: ${errorText(r.reason)}`] : [],
  );
  return failed.length > 0 ? failed.join('; ') : undefined;
}

function linkOf(fault: {
  delayMs?: number | undefined;
  jitterMs?: number | undefined;
  loss?: number | undefined;
  rateKbit?: number | undefined;
}): LinkFault {
  const l: LinkFault = {};
  if (fault.delayMs !== undefined) l.delayMs = fault.delayMs;
  if (fault.jitterMs !== undefined) l.jitterMs = fault.jitterMs;
  if (fault.loss !== undefined) l.loss = fault.loss;
  if (fault.rateKbit !== undefined) l.rateKbit = fault.rateKbit;
  return l;
}

interface Step {
  f: NemesisF;
  value: unknown;
  act: () => Promise<string | undefined>;
}

/** What starting and stopping a planned fault mean in cluster primitives. */
function steps(fault: PlannedFault, cluster: Cluster): { start: Step; stop: Step } {
  const attempt = (p: () => Promise<void>) => async () => {
    try {
      await p();
      return undefined;
    } catch (e) {
      return errorText(e);
    }
  };
  switch (fault.kind) {
    case 'partition': {
      const g: Grudge = fault.grudge;
      return {
        start: { f: 'partition-start', value: g, act: attempt(() => cluster.partition(g)) },
        stop: { f: 'partition-stop', value: g, act: attempt(() => cluster.heal()) },
      };
    }
    case 'kill':
      return {
        start: {
          f: 'kill',
          value: fault.nodes,
          act: () => onEach(fault.nodes, (n) => cluster.kill(n)),
        },
        stop: {
          f: 'start',
          value: fault.nodes,
          act: () => onEach(fault.nodes, (n) => cluster.start(n)),
        },
      };
    case 'pause':
      return {
        start: {
          f: 'pause',
          value: fault.nodes,
          act: () => onEach(fault.nodes, (n) => cluster.pause(n)),
        },
        stop: {
          f: 'resume',
          value: fault.nodes,
          act: () => onEach(fault.nodes, (n) => cluster.resume(n)),
        },
      };
    case 'link': {
      const link = linkOf(fault.link);
      return {
        start: {
          f: 'link-start',
          value: { nodes: fault.nodes, ...link },
          act: () => onEach(fault.nodes, (n) => cluster.setLink(n, link)),
        },
        stop: {
          f: 'link-stop',
          value: fault.nodes,
          act: () => onEach(fault.nodes, (n) => cluster.setLink(n, {})),
        },
      };
    }
    case 'clock': {
      const nodes = Object.keys(fault.offsets);
      return {
        start: {
          f: 'clock-offset',
          value: fault.offsets,
          act: () => onEach(nodes, (n) => cluster.setClock(n, fault.offsets[n] ?? 0)),
        },
        stop: {
          f: 'clock-reset',
          value: nodes,
          act: () => onEach(nodes, (n) => cluster.setClock(n, 0)),
        },
      };
    }
  }
}

async function perform(
  step: Step,
  entry: PlanEntry | undefined,
  scheduledTime: number,
  io: NemesisIO,
): Promise<void> {
  const startedTime = io.now();
  const error = await step.act();
  const event: NemesisEvent = {
    process: 'nemesis',
    type: 'info',
    f: step.f,
    value: step.value,
    scheduledTime: Math.round(scheduledTime),
    startedTime,
  };
  if (entry !== undefined) event.fault = entry.index;
  if (error !== undefined) event.error = error;
  io.record(event);
}

/**
 * Carry out the plan through the cluster's primitives, each fault at its time (offsets from
 * when this is called). A primitive that fails is recorded (the event's `error`) and the plan
 * goes on. On abort it returns at once, leaving faults in place: healing is the runner's
 * (`cluster.healAll()`, or `healAllRecorded`).
 */
export async function runNemesis(
  plan: FaultPlan,
  cluster: Cluster,
  io: NemesisIO,
): Promise<NemesisOutcome> {
  const t0 = io.now();
  const outcome: NemesisOutcome = { started: 0, stopped: 0, aborted: false };
  for (const entry of plan.entries) {
    const { start, stop } = steps(entry.fault, cluster);
    const startAt = t0 + entry.startMs * NS_PER_MS;
    if (!(await sleepUntil(io, startAt))) {
      outcome.aborted = true;
      return outcome;
    }
    await perform(start, entry, startAt, io);
    outcome.started += 1;
    const stopAt = startAt + entry.durationMs * NS_PER_MS;
    if (!(await sleepUntil(io, stopAt))) {
      outcome.aborted = true;
      return outcome;
    }
    await perform(stop, entry, stopAt, io);
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
