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
