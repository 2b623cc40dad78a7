/**
 * Elle-style transactional checking of list-append and rw-register histories: version orders
 * inferred from reads, a dependency graph (ww, wr, rw, process, realtime), cycles classified
 * into G0, G1c, G-single, G2-item (and -process, -realtime variants), non-cycle anomalies, and
 * the consistency models they rule out.
 */
export {
  CYCLE_ANOMALIES,
  KNOWN_ANOMALIES,
  NON_CYCLE_ANOMALIES,
  REPORTED_ANOMALIES,
} from './anomalies.js';
export {
  type AnomalyReport,
  checkElle,
  ElleOptionError,
  type ElleOptions,
  type ElleResult,
  type ElleVerdict,
  type StepReport,
  type TxnSummary,
} from './check.js';
export { type LoadedTxnHistory, loadTxnHistory } from './load.js';
export { CONSISTENCY_MODELS, modelName, modelsRuledOut } from './models.js';
export { renderElleReport } from './report.js';
export { type TxnHistory, txnsOf } from './txns.js';
export { type MicroOp, type Txn, type TxnStatus, WORKLOADS, type Workload } from './types.js';
