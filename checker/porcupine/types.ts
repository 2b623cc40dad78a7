/**
 * The public types of faultline's Porcupine port: a linearizability checker over generic models.
 * This folder is self-contained: it imports nothing from the rest of the repository.
 */

/**
 * The output an indeterminate operation is stepped with. An indeterminate operation (a Jepsen
 * `info` completion, or an invocation that never completed) may take effect at any moment after
 * its call, or never; its output was never observed. The checker handles the "any moment" and
 * "never" parts itself; a model's `step` only has to accept UNKNOWN as "any output".
 */
export const UNKNOWN: unique symbol = Symbol.for('faultline.porcupine.unknown');
export type Unknown = typeof UNKNOWN;

/** One operation as the checker sees it: an interval [call, return] with its input and output. */
export interface Operation<I, O> {
  /**
   * The client (process) that issued it. A client runs one operation at a time, so its
   * operations are ordered even when one returns at the very time the next is called.
   */
  clientId: number;
  input: I;
  /** Invocation time. */
  call: number;
  /** Observed output, or UNKNOWN for an indeterminate operation. */
  output: O | Unknown;
  /** Completion time; Infinity for an indeterminate operation. */
  return: number;
  /** The caller's identifier for this operation (e.g. the history index of its invoke), carried into results untouched. */
  id?: number;
}

/**
 * A sequential specification. `step` must be pure. States that are `equal` must have the same
 * `hash`. Optional members get their defaults in one place (`completeModel`).
 */
export interface Model<S, I, O> {
  init(): S;
  /**
   * The state after applying `input` in `state` and observing `output`, or `undefined` when that
   * output is impossible in that state. With `output === UNKNOWN`, return the state the operation
   * leads to whatever it answered (or `undefined` if it cannot take effect in that state at all).
   */
  step(state: S, input: I, output: O | Unknown): S | undefined;
  equal?(a: S, b: S): boolean;
  hash?(state: S): string | number;
  /** P-compositionality: operations with different keys are checked independently. */
  partitionKey?(input: I): string;
  /** True when the input can never change the state (a read): an indeterminate one is dropped. */
  readOnly?(input: I): boolean;
  describeOperation?(input: I, output: O | Unknown): string;
  describeState?(state: S): string;
  /**
   * Optional exact pruning, prepared once per partition from its operations; it must never
   * change a verdict. The search calls the returned function after each step with the state
   * reached and `pending[0..size)`: the indices (into `ops`) of the operations not yet
   * linearized and called no later than `front`'s return, where `front` (one of them) is the
   * not-yet-linearized operation with a finite return that returns first. Every operation not
   * in `pending` and not yet linearized is called after that return, so comes after `front`.
   * Return false only when no order of the remaining operations can continue from `state`.
   */
  viability?(ops: readonly Operation<I, O>[]): Viability<S> | undefined;
  /**
   * Optional exact simplification, prepared once per partition from its operations: which
   * indeterminate operations no other operation could ever observe (for a register, a write
   * whose value no read returned and no cas expected). Such an operation can always be placed
   * nowhere, and placing it anywhere changes nothing anyone saw, so it is dropped before the
   * search. It must never change a verdict; it only spares the search the 2^k ways of placing
   * k unobserved indeterminate writes (what makes a cut-off leader's timed-out writes costly).
   */
  unobservable?(ops: readonly Operation<I, O>[]): ((op: Operation<I, O>) => boolean) | undefined;
}

/**
 * See Model.viability. `linearized(i)` tells whether operation i is already linearized (on the
 * path that led to `state`).
 */
export type Viability<S> = (
  state: S,
  pending: Int32Array,
  size: number,
  front: number,
  linearized: (op: number) => boolean,
) => boolean;

/** A model whose step may lead to several states; adapted to a `Model` over sets of states. */
export interface NondeterministicModel<S, I, O> {
  init(): S[];
  step(state: S, input: I, output: O | Unknown): S[];
  equal?(a: S, b: S): boolean;
  hash?(state: S): string | number;
  partitionKey?(input: I): string;
  readOnly?(input: I): boolean;
  describeOperation?(input: I, output: O | Unknown): string;
  describeState?(state: S): string;
}

/** true: linearizable; false: not; "unknown": a budget (time or memory) ran out first. */
export type Verdict = true | false | 'unknown';

export type UnknownReason = 'timeout' | 'memory' | 'cancelled';

export interface CheckOptions {
  /** Wall-clock budget for the whole check; when it runs out the verdict is "unknown". */
  timeoutMs?: number;
  /** Bound on the memoisation cache (entries across the search of one partition); "unknown" when exceeded. */
  maxCacheEntries?: number;
  /** Collect partial linearizations and the operations that could not be placed. */
  verbose?: boolean;
  /** Decide every partition, instead of stopping at the first illegal one. */
  decideAll?: boolean;
  /** Use the model's partitionKey (default true). false searches the history as one. */
  partition?: boolean;
  /**
   * Cancels the check (verdict "unknown", reason "cancelled"). A search running on the calling
   * thread polls it, so it sees an abort raised from another thread, or before the check; the
   * parallel check leaves the calling thread free when a signal is given.
   */
  signal?: AbortSignal;
}

/** One step of a partial linearization: the operation placed and the state after it. */
export interface LinearizationStep {
  /** Index into PartitionInfo.operations. */
  op: number;
  /** describeState of the state after this operation. */
  state: string;
}

/** Evidence for one partition, collected in verbose mode. */
export interface PartitionInfo<I, O> {
  operations: Operation<I, O>[];
  /** describeState of the initial state. */
  initialState: string;
  /** The longest linearizable prefixes found (distinct orders of maximal length). */
  longest: LinearizationStep[][];
  /** Operations (indices into `operations`) that could not be placed next after a longest prefix. */
  stuck: number[];
  /** describeOperation of each operation, parallel to `operations`. */
  descriptions: string[];
}

export interface PartitionResult<I, O> {
  /** The partition key; "" when the history was searched as one. */
  key: string;
  /** Keys searched together because a client's order ties them (the first is `key`). */
  keys?: string[];
  valid: Verdict;
  reason?: UnknownReason;
  /** Operations searched (after dropping indeterminate read-only ones). */
  operations: number;
  elapsedMs: number;
  info?: PartitionInfo<I, O>;
}

export interface CheckResult<I, O> {
  valid: Verdict;
  /** Why the verdict is "unknown" when no partition says: nothing completed to be checked. */
  reason?: string;
  /** Partitions decided (or left unknown); when not deciding all, those after the first illegal one may be absent. */
  partitions: PartitionResult<I, O>[];
  elapsedMs: number;
}

/**
 * Where a worker thread finds a model: models are code, so a worker imports `module` and takes
 * its export `exportName`: a `Model`, or a function called with `args` that returns one.
 * `args` must be structured-cloneable.
 */
export interface ModelSource {
  /** An absolute module URL (file:...), e.g. `import.meta.url` of the module that exports the model. */
  module: string;
  exportName: string;
  args?: unknown[];
}
