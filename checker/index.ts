/**
 * faultline's checker: the public API (package exports `.` and `./checker`).
 *
 * - History I/O: `loadHistory` (JSONL, Jepsen EDN, Jepsen log lines), `splitHistory` /
 *   `pairOperations` (invokes paired with completions), `JsonlHistoryWriter`, `HistoryError`.
 * - Linearizability: `checkLinearizability(ops, { model, ... })` over the shipped models
 *   (`HISTORY_MODEL_NAMES`, `getHistoryModel`).
 * - Evidence: `renderTimeline` (the anomaly timeline page), `results.json` (`linearizabilityResults`,
 *   `writeResults`, `readResults`, `resultsSchema`).
 * - Transactions (Elle-style): `loadTxnHistory`, `checkElle` over list-append and rw-register
 *   histories: isolation anomalies found and the consistency models they rule out.
 * - Eventual consistency over final replica states (`replica-read` ops, or Jepsen-style final
 *   reads): `checkConvergence` (lww, siblings, set, counter), `checkSetFull`, `checkCounter`.
 */
export type {
  ConvergenceOptions,
  ConvergenceResult,
  CounterOutOfBounds,
  DivergentKey,
  LostWinner,
  LostWrite,
  ReplicaGroup,
  UnexpectedValue,
} from './convergence.js';
export { checkConvergence } from './convergence.js';
export type {
  CounterBounds,
  CounterKeyResult,
  CounterOptions,
  CounterReadViolation,
  CounterReplicaValue,
  CounterResult,
} from './counter.js';
export { checkCounter, counterBounds } from './counter.js';
export type {
  AnomalyReport,
  ElleOptions,
  ElleResult,
  ElleVerdict,
  LoadedTxnHistory,
  MicroOp,
  StepReport,
  Txn,
  TxnHistory,
  TxnStatus,
  TxnSummary,
  Workload as TxnWorkload,
} from './elle/index.js';
export {
  CONSISTENCY_MODELS,
  checkElle,
  ElleOptionError,
  KNOWN_ANOMALIES,
  loadTxnHistory,
  modelsRuledOut,
  renderElleReport,
  txnsOf,
} from './elle/index.js';
export type { ClientOp, ClientOpStatus } from './history/client-op.js';
export type { HistoryLocation, HistoryWarning } from './history/errors.js';
export { HistoryError, isHistoryError } from './history/errors.js';
export type { HistoryEvent, Key, OpType, ProcessId } from './history/event.js';
export {
  historyEventSchema,
  isClientEvent,
  isNemesisEvent,
  isObserverEvent,
  NEMESIS,
  OBSERVER,
  OP_TYPES,
} from './history/event.js';
export { JsonlHistoryWriter } from './history/jsonl.js';
export type { LoadedHistory } from './history/load.js';
export { loadHistory } from './history/load.js';
export type { SplitHistory } from './history/pair.js';
export { pairOperations, splitHistory } from './history/pair.js';
export type {
  LinearizabilityOptions,
  LinearizabilityPartition,
  LinearizabilityResult,
} from './linearizability.js';
export { checkLinearizability } from './linearizability.js';
export type { HistoryModel, HistoryModelName, HistoryModelOptions } from './models/index.js';
export {
  getHistoryModel,
  HISTORY_MODEL_NAMES,
  isHistoryModelName,
  ModelMismatchError,
} from './models/index.js';
export { NOTHING_TO_CHECK } from './porcupine/check.js';
export type {
  CheckOptions,
  LinearizationStep,
  Model,
  Operation,
  PartitionInfo,
  PartitionResult,
  UnknownReason,
  Verdict,
} from './porcupine/types.js';
export { UNKNOWN } from './porcupine/types.js';
export type {
  CounterState,
  FinalReadSource,
  KvState,
  LatencyStats,
  ReplicaDataType,
  SetState,
} from './replica-reads.js';
export { HistoryShapeError, REPLICA_READ } from './replica-reads.js';
export type {
  LinearizabilityOutcome,
  LinearizabilityResults,
  LinearizabilityResultsInput,
  PartitionResults,
  Results,
} from './results.js';
export {
  checkerResultSchema,
  combineVerdicts,
  linearizabilityResultSchema,
  linearizabilityResults,
  RESULTS_FILE,
  readResults,
  resultsSchema,
  verdictSchema,
  writeResults,
} from './results.js';
export type {
  SetElementRef,
  SetFullOptions,
  SetFullResult,
  SetKeyResult,
  StaleRead,
} from './set-full.js';
export { checkSetFull } from './set-full.js';
export type {
  NemesisInterval,
  TimelineCheck,
  TimelineInput,
  TimelineOptions,
  TimelinePartition,
} from './timeline/index.js';
export { describeClientOp, nemesisIntervals, renderTimeline } from './timeline/index.js';
