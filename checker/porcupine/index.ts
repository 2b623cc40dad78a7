/**
 * faultline's Porcupine port: a linearizability checker over generic models (Wing & Gong's
 * search with Lowe's memoisation, P-compositionality, native indeterminate operations).
 * Self-contained: nothing here imports from the rest of the repository.
 */

export type { Partition } from './check.js';
export {
  checkOperations,
  combineVerdicts,
  DEFAULT_MAX_CACHE_ENTRIES,
  NOTHING_TO_CHECK,
  partitionOperations,
  stuckOperations,
} from './check.js';
export type { CompleteModel } from './model.js';
export {
  completeModel,
  deepEqual,
  defaultHash,
  fromNondeterministic,
  hashNumber,
  hashString,
  stableStringify,
} from './model.js';
export type { ParallelCheckOptions } from './parallel.js';
export { checkOperationsParallel, loadModel, maxConcurrency } from './parallel.js';
export type {
  CheckOptions,
  CheckResult,
  LinearizationStep,
  Model,
  ModelSource,
  NondeterministicModel,
  Operation,
  PartitionInfo,
  PartitionResult,
  Unknown,
  UnknownReason,
  Verdict,
  Viability,
} from './types.js';
export { UNKNOWN } from './types.js';
