/**
 * Checking a history of operations against a model on the calling thread: P-compositionality
 * (one search per partition key), budgets (time, cancellation, cache size) and the verbose
 * evidence (longest linearizable prefixes, operations that could not be placed next).
 */
import type { CompleteModel } from './model.js';
import { completeModel } from './model.js';
import { processPredecessors, searchPartition } from './search.js';
import type {
  CheckOptions,
  CheckResult,
  LinearizationStep,
  Model,
  Operation,
  PartitionInfo,
  PartitionResult,
  UnknownReason,
  Verdict,
} from './types.js';

/**
 * Default bound on the cache of one search. An entry costs roughly 150 to 250 bytes with its
 * model state (measured: ~160 bytes for kv), so this keeps a pathological partition under
 * about 1 GiB; parallel checks split it between their worker threads.
 */
export const DEFAULT_MAX_CACHE_ENTRIES = 4_000_000;

export interface Partition<I, O> {
  key: string;
  /** When several keys had to be searched together (see partitionOperations): all of them. */
  keys?: string[];
  /** Operations to search, indeterminate read-only and unobservable ones already dropped. */
  ops: Operation<I, O>[];
}

/**
 * Splits a history into partitions (in order of each key's first operation) and drops
 * indeterminate read-only operations, which can never change what the others observe, and the
 * indeterminate operations the model names unobservable (Model.unobservable).
 *
 * A client's operation that returns at the very time its next one is called, on another key,
 * ties the two keys: their order is the client's, which neither key's search alone would see
 * (searched apart, each key could pick an order of the tied instants that the other
 * contradicts). Tied keys are searched as one partition, named after its first key, with
 * `keys` listing them all.
 */
export function partitionOperations<S, I, O>(
  model: CompleteModel<S, I, O>,
  ops: readonly Operation<I, O>[],
  partition: boolean,
): Partition<I, O>[] {
  const kept: Operation<I, O>[] = [];
  const keyOf: string[] = [];
  for (const op of ops) {
    if (op.return === Number.POSITIVE_INFINITY && model.readOnly(op.input)) continue;
    kept.push(op);
    keyOf.push(partition ? model.partitionKey(op.input) : '');
  }
  // Union-find over keys tied by a client's order.
  const parent = new Map<string, string>();
  const root = (k: string): string => {
    let r = k;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  if (partition) {
    const before = processPredecessors(kept as readonly Operation<unknown, unknown>[]);
    for (let i = 0; i < kept.length; i++) {
      const p = before[i]!;
      if (p < 0) continue;
      const a = root(keyOf[p]!);
      const b = root(keyOf[i]!);
      if (a !== b) parent.set(b, a);
    }
  }
  const byRoot = new Map<string, { keys: string[]; ops: Operation<I, O>[] }>();
  const seenKeys = new Set<string>();
  for (let i = 0; i < kept.length; i++) {
    const key = keyOf[i]!;
    const r = root(key);
    let part = byRoot.get(r);
    if (part === undefined) {
      part = { keys: [], ops: [] };
      byRoot.set(r, part);
    }
    if (!seenKeys.has(key)) {
      seenKeys.add(key);
      part.keys.push(key);
    }
    part.ops.push(kept[i]!);
  }
  if (byRoot.size === 0) return [{ key: '', ops: [] }];
  return [...byRoot.values()].map(({ keys, ops: all }) => {
    const unobservable = model.unobservable?.(all);
    const list =
      unobservable === undefined
        ? all
        : all.filter((op) => op.return !== Number.POSITIVE_INFINITY || !unobservable(op));
    return keys.length > 1 ? { key: keys[0]!, keys, ops: list } : { key: keys[0]!, ops: list };
  });
}

/** Why a check with no operation that returned is "unknown": there is nothing to judge. */
export const NOTHING_TO_CHECK = 'no completed operations to check';

/**
 * The result for a history in which no operation completed (none, or only indeterminate
 * ones): any model accepts it, which proves nothing, so the verdict is "unknown". Undefined
 * when some operation completed. (A partition with nothing completed, in a history with
 * something, is linearizable as usual.)
 */
export function nothingToCheck<I, O>(
  ops: readonly Operation<I, O>[],
  start: number,
): CheckResult<I, O> | undefined {
  if (ops.some((op) => op.return !== Number.POSITIVE_INFINITY)) return undefined;
  return {
    valid: 'unknown',
    reason: NOTHING_TO_CHECK,
    partitions: [],
    elapsedMs: Date.now() - start,
  };
}

/** The combined verdict of partitions: false beats unknown beats true. */
export function combineVerdicts(verdicts: Iterable<Verdict>): Verdict {
  let v: Verdict = true;
  for (const x of verdicts) {
    if (x === false) return false;
    if (x === 'unknown') v = 'unknown';
  }
  return v;
}

export interface PartitionBudget {
  /** Date.now() after which the search gives up. */
  deadline: number;
  maxCacheEntries: number;
  verbose: boolean;
  /** Extra stop condition (an abort signal, a cancellation flag shared with other threads). */
  stop?: () => UnknownReason | undefined;
  /** Steps between polls of the search, less one (see SearchParams.pollMask). */
  pollMask?: number;
}

/** Searches one partition and builds its result (with evidence when verbose). */
export function checkPartition<S, I, O>(
  model: CompleteModel<S, I, O>,
  part: Partition<I, O>,
  budget: PartitionBudget,
): PartitionResult<I, O> {
  const start = Date.now();
  const { deadline, stop } = budget;
  const poll = (): UnknownReason | undefined => {
    const r = stop?.();
    if (r !== undefined) return r;
    return Date.now() > deadline ? 'timeout' : undefined;
  };
  const early = poll();
  const outcome = early
    ? { valid: 'unknown' as const, reason: early, longest: [] as number[][], cacheEntries: 0 }
    : searchPartition({
        model,
        ops: part.ops,
        verbose: budget.verbose,
        maxCacheEntries: budget.maxCacheEntries,
        poll,
        ...(budget.pollMask !== undefined ? { pollMask: budget.pollMask } : {}),
      });
  const result: PartitionResult<I, O> = {
    key: part.key,
    valid: outcome.valid,
    operations: part.ops.length,
    elapsedMs: 0,
  };
  if (part.keys !== undefined) result.keys = part.keys;
  if (outcome.reason !== undefined) result.reason = outcome.reason;
  if (budget.verbose) {
    let longest = outcome.longest ?? [];
    if (outcome.valid === false && model.viability !== undefined) {
      longest = longerWithoutPruning(model, part.ops, longest, budget, poll);
    }
    result.info = partitionInfo(model, part.ops, longest);
  }
  result.elapsedMs = Date.now() - start;
  return result;
}

/** Time and cache given to the evidence search of an illegal partition (see below). */
export const EVIDENCE_BUDGET_MS = 2000;
export const EVIDENCE_MAX_CACHE_ENTRIES = 1_000_000;

/**
 * The model's pruning stops a search at the first state it proves dead, so the prefixes it
 * saw can be much shorter than the longest legal ones. For the evidence of an illegal
 * partition, search again without pruning, within a small budget, and keep the longer prefixes.
 */
function longerWithoutPruning<S, I, O>(
  model: CompleteModel<S, I, O>,
  ops: readonly Operation<I, O>[],
  longest: number[][],
  budget: PartitionBudget,
  poll: () => UnknownReason | undefined,
): number[][] {
  const until = Math.min(budget.deadline, Date.now() + EVIDENCE_BUDGET_MS);
  const again = searchPartition({
    model: { ...model, viability: undefined },
    ops,
    verbose: true,
    maxCacheEntries: Math.min(budget.maxCacheEntries, EVIDENCE_MAX_CACHE_ENTRIES),
    poll: () => poll() ?? (Date.now() > until ? 'timeout' : undefined),
    ...(budget.pollMask !== undefined ? { pollMask: budget.pollMask } : {}),
  });
  const other = again.longest ?? [];
  return (other[0]?.length ?? -1) > (longest[0]?.length ?? -1) ? other : longest;
}

/**
 * The evidence for one partition: each longest prefix replayed through the model (state after
 * each step), and the operations that could not be placed after the first of them.
 */
export function partitionInfo<S, I, O>(
  model: CompleteModel<S, I, O>,
  ops: Operation<I, O>[],
  longest: number[][],
): PartitionInfo<I, O> {
  const init = model.init();
  const steps: LinearizationStep[][] = longest.map((prefix) => {
    let state = init;
    return prefix.map((op) => {
      const o = ops[op]!;
      state = model.step(state, o.input, o.output) as S;
      return { op, state: model.describeState(state) };
    });
  });
  return {
    operations: ops,
    initialState: model.describeState(init),
    longest: steps,
    stuck: stuckOperations(model, ops, longest[0] ?? []),
    descriptions: ops.map((o) => model.describeOperation(o.input, o.output)),
  };
}

/**
 * Operations that could not be placed after `prefix`: among the operations with a finite return
 * that real time allows next (called no later than the earliest return of the unplaced ones),
 * those the model rejects in the state after the prefix; when the model rejects none of them
 * (each leads only to dead ends), all of them.
 */
export function stuckOperations<S, I, O>(
  model: CompleteModel<S, I, O>,
  ops: readonly Operation<I, O>[],
  prefix: readonly number[],
): number[] {
  const placed = new Uint8Array(ops.length);
  const before = processPredecessors(ops as readonly Operation<unknown, unknown>[]);
  let state = model.init();
  for (const i of prefix) {
    placed[i] = 1;
    state = model.step(state, ops[i]!.input, ops[i]!.output) as S;
  }
  let horizon = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ops.length; i++) {
    if (!placed[i] && ops[i]!.return < horizon) horizon = ops[i]!.return;
  }
  if (horizon === Number.POSITIVE_INFINITY) return [];
  const eligible: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    const after = before[i]!;
    if (after >= 0 && !placed[after]) continue; // its client's previous op comes first
    if (!placed[i] && o.return !== Number.POSITIVE_INFINITY && o.call <= horizon) eligible.push(i);
  }
  const rejected = eligible.filter(
    (i) => model.step(state, ops[i]!.input, ops[i]!.output) === undefined,
  );
  return rejected.length > 0 ? rejected : eligible;
}

/** Resolves the budget options shared by the sync and the parallel paths. */
export function resolveBudget(options: CheckOptions, start: number): Omit<PartitionBudget, 'stop'> {
  return {
    deadline:
      options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : start + options.timeoutMs,
    maxCacheEntries: options.maxCacheEntries ?? DEFAULT_MAX_CACHE_ENTRIES,
    verbose: options.verbose === true,
  };
}

function signalStop(
  signal: AbortSignal | undefined,
): (() => UnknownReason | undefined) | undefined {
  if (signal === undefined) return undefined;
  return () => (signal.aborted ? 'cancelled' : undefined);
}

/**
 * Checks a history on the calling thread. Never throws for a budget: a search that runs out of
 * time or cache gives "unknown" with its reason.
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O> {
  const start = Date.now();
  const empty = nothingToCheck(ops, start);
  if (empty !== undefined) return empty;
  const complete = completeModel(model);
  const budget: PartitionBudget = resolveBudget(options, start);
  const stop = signalStop(options.signal);
  if (stop) budget.stop = stop;
  const parts = partitionOperations(complete, ops, options.partition !== false);
  return checkPartitionsInTurn(complete, parts, budget, options.decideAll === true, start);
}

/**
 * Time the probe gives the check of each partition in its first round, four times that in each
 * next one, up to PROBE_MAX_CHECK_MS (steps cost from a microsecond to tens of them with a model's pruning: a count of
 * steps would not bound it). Processor time, not the clock's: on a busy machine the clock's
 * would leave every partition undecided.
 */
export const PROBE_CHECK_MS = 10;
export const PROBE_MAX_CHECK_MS = 160;
/** Time after which the probe starts no more checks. */
export const PROBE_TOTAL_MS = 300;
/** Histories of more partitions are not probed: the probes would cost more than they find. */
export const PROBE_MAX_PARTITIONS = 64;

/** Processor time this process has used, in milliseconds. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export interface Probe<I, O> {
  /** An illegal partition, checked in full. */
  illegal?: PartitionResult<I, O>;
  /** The partitions the probe checked in full and found legal, by index in `parts`. */
  legal: Map<number, PartitionResult<I, O>>;
}

/**
 * Looking for one illegal partition among several (not deciding all): one partition is often
 * plainly illegal, and its evidence quick to find, while the check of another, legal or not,
 * takes long. So each is checked in turn within a short time, then again within longer ones;
 * the first found illegal in full ends the probe. The legal partitions it checked in full need
 * no second check. Failing that, a partition seen illegal is checked in full, however long.
 */
export function probeForIllegal<S, I, O>(
  model: CompleteModel<S, I, O>,
  parts: readonly Partition<I, O>[],
  budget: PartitionBudget,
): Probe<I, O> {
  const legal = new Map<number, PartitionResult<I, O>>();
  if (parts.length < 2 || parts.length > PROBE_MAX_PARTITIONS) return { legal };
  const started = cpuMs();
  // Partitions whose search ended illegal but whose evidence was cut short: tried first in the
  // next round (their evidence may be nearly done), and the fallback.
  const illegal = new Set<number>();
  for (let limit = PROBE_CHECK_MS; limit <= PROBE_MAX_CHECK_MS; limit *= 4) {
    const rest = [...parts.keys()].filter((i) => !legal.has(i) && !illegal.has(i));
    const order = [...illegal, ...rest];
    for (const i of order) {
      if (cpuMs() - started > PROBE_TOTAL_MS) break;
      let late = false;
      const wallFrom = performance.now();
      let wallAsked = wallFrom;
      const until = cpuMs() + limit;
      const r = checkPartition(model, parts[i]!, {
        ...budget,
        pollMask: 63,
        stop: () => {
          const reason = budget.stop?.();
          if (reason !== undefined) return reason;
          // The processor time is a system call: asked only once the clock says the limit may
          // be up, and then at most once a millisecond.
          const now = performance.now();
          if (now - wallFrom <= limit || now - wallAsked < 1) return undefined;
          wallAsked = now;
          if (cpuMs() <= until) return undefined;
          late = true;
          return 'cancelled';
        },
      });
      if (budget.stop?.() !== undefined) return { legal };
      // Not cut short: the same result as a check without the probe's limit.
      if (!late && r.valid === false) return { illegal: r, legal };
      if (!late && r.valid === true) legal.set(i, r);
      if (late && r.valid === false) illegal.add(i);
    }
  }
  const [first] = illegal;
  if (first !== undefined) return { illegal: checkPartition(model, parts[first]!, budget), legal };
  return { legal };
}

/** Checks partitions one after another on this thread, stopping at the first illegal one unless deciding all. */
export function checkPartitionsInTurn<S, I, O>(
  model: CompleteModel<S, I, O>,
  parts: readonly Partition<I, O>[],
  budget: PartitionBudget,
  decideAll: boolean,
  start: number,
): CheckResult<I, O> {
  const partitions: PartitionResult<I, O>[] = [];
  for (const part of parts) {
    const r = checkPartition(model, part, budget);
    partitions.push(r);
    if (r.valid === false && !decideAll) break;
  }
  return {
    valid: combineVerdicts(partitions.map((p) => p.valid)),
    partitions,
    elapsedMs: Date.now() - start,
  };
}
