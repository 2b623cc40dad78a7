/**
 * The transactional checker: infers dependencies from a txn history, searches for cycles and
 * collects the non-cycle anomalies, keeps those that bear on the models (or anomalies) asked
 * for, and says which models the history rules out.
 */
import {
  CYCLE_BASES,
  CYCLE_SUFFIXES,
  type CycleBase,
  type CycleSuffix,
  KNOWN_ANOMALIES,
  relevantAnomalies,
} from './anomalies.js';
import { type CycleStep, findCycles } from './cycles.js';
import type { Inference } from './inference.js';
import { show, txnName } from './inference.js';
import { inferListAppend } from './list-append.js';
import { forbiddenBy, modelName, modelsRuledOut } from './models.js';
import { addProcessEdges, addRealtimeEdges } from './order-edges.js';
import { inferRwRegister } from './rw-register.js';
import type { TxnHistory } from './txns.js';
import { EDGE_NAMES, type MicroOp, PROCESS, REALTIME, type Txn, type Workload } from './types.js';

export interface ElleOptions {
  workload: Workload;
  /** Target models; default strict-serializable, or serializable without invocations. */
  consistencyModels?: readonly string[];
  /** Check for exactly these anomaly classes (and what implies them) instead of the models'. */
  anomalies?: readonly string[];
  /** rw-register: a txn that reads a key and then writes it installs a later version. */
  writesFollowReads?: boolean;
  /** rw-register: each process sees each key's versions in order (off by default). */
  sequentialKeys?: boolean;
  /** rw-register: real-time order orders each key's versions (off by default). */
  linearizableKeys?: boolean;
  /** Edge visits allowed per cycle class and component (deterministic bound on the search). */
  searchBudget?: number;
}

export interface TxnSummary {
  id: number;
  /** History index of the completion (of the invocation for an op never completed). */
  index: number | undefined;
  /** History indices of the invocation (none without invocations) and the completion. */
  invokeIndex?: number;
  completeIndex?: number;
  process: Txn['process'];
  status: Txn['status'];
  /** The micro-ops, written as in Elle: `[append "x" 1] [r "x" [1]]`. */
  text: string;
}

export interface StepReport {
  from: number;
  to: number;
  kind: string;
  because: string;
}

export interface AnomalyReport {
  type: string;
  txns: TxnSummary[];
  /** For cycles: the edges, in order, the last leading back to the first txn. */
  steps?: StepReport[];
  text: string;
}

export type ElleVerdict = true | false | 'unknown';

export interface ElleResult {
  valid: ElleVerdict;
  workload: Workload;
  consistencyModels: string[];
  /** The anomaly classes looked for. */
  checked: string[];
  /** Found anomaly classes, sorted. */
  anomalyTypes: string[];
  /** Per class, its instances, smallest cycle first. */
  anomalies: Record<string, AnomalyReport[]>;
  /** The weakest models ruled out, and the stronger ones that fall with them. */
  not: string[];
  alsoNot: string[];
  /** Whether realtime edges could be inferred (false for completion-only histories). */
  realtime: boolean;
  /** Why the verdict is unknown (with no anomaly found, or input Elle would not judge). */
  unknown: string[];
  notes: string[];
  txns: number;
}

export class ElleOptionError extends Error {
  override readonly name = 'ElleOptionError';
}

function renderOp(op: MicroOp): string {
  return `[${op.f} ${show(op.key)} ${show(op.value)}]`;
}

export function summarize(t: Txn): TxnSummary {
  return {
    id: t.id,
    index: t.completeIndex ?? t.invokeIndex,
    ...(t.invokeIndex !== undefined ? { invokeIndex: t.invokeIndex } : {}),
    ...(t.completeIndex !== undefined ? { completeIndex: t.completeIndex } : {}),
    process: t.process,
    status: t.status,
    text: t.ops.map(renderOp).join(' '),
  };
}

function orderExplanation(txns: readonly Txn[], s: CycleStep): string {
  const a = txns[s.from]!;
  const b = txns[s.to]!;
  if (s.kind === PROCESS) {
    return `${txnName(a)} completed before ${txnName(b)} in the same process ${String(a.process)}`;
  }
  return `${txnName(a)} completed (event ${a.completeIndex}) before ${txnName(b)} was invoked (event ${b.invokeIndex})`;
}

function cycleReport(
  type: string,
  steps: readonly CycleStep[],
  txns: readonly Txn[],
  inference: Inference,
): AnomalyReport {
  const reports = steps.map((s) => ({
    from: s.from,
    to: s.to,
    kind: EDGE_NAMES[s.kind]!,
    because:
      s.kind === PROCESS || s.kind === REALTIME
        ? orderExplanation(txns, s)
        : inference.explain(s.from, s.to, s.kind),
  }));
  const lines = reports.map(
    (r, i) =>
      `${i === reports.length - 1 ? 'however ' : ''}${txnName(r.from)} < ${txnName(r.to)} (${r.kind}) because ${r.because}`,
  );
  return {
    type,
    txns: steps.map((s) => summarize(txns[s.from]!)),
    steps: reports,
    text: `${lines.join('; ')}: a contradiction`,
  };
}

function resolveModels(options: ElleOptions, hasInvocations: boolean): string[] {
  const asked = options.consistencyModels ?? [
    hasInvocations ? 'strict-serializable' : 'serializable',
  ];
  return asked.map((m) => {
    const name = modelName(m);
    if (name === undefined)
      throw new ElleOptionError(`unknown consistency model ${JSON.stringify(m)}`);
    return name;
  });
}

function resolveAnomalies(asked: readonly string[]): string[] {
  return asked.map((a) => {
    const name = a.startsWith(':') ? a.slice(1) : a;
    if (!KNOWN_ANOMALIES.includes(name)) {
      throw new ElleOptionError(
        `unknown anomaly ${JSON.stringify(a)}; known: ${KNOWN_ANOMALIES.join(', ')}`,
      );
    }
    return name;
  });
}

export function checkElle(history: TxnHistory, options: ElleOptions): ElleResult {
  const { txns, hasInvocations } = history;
  const models = resolveModels(options, hasInvocations);
  const targets =
    options.anomalies !== undefined
      ? resolveAnomalies(options.anomalies)
      : models.flatMap((m) => [...forbiddenBy(m)]);
  const relevant = relevantAnomalies(targets);
  const notes: string[] = [];
  const unknown: string[] = [];

  const inference =
    options.workload === 'list-append'
      ? inferListAppend(txns)
      : inferRwRegister(txns, {
          writesFollowReads: options.writesFollowReads ?? true,
          sequentialKeys: options.sequentialKeys ?? false,
          linearizableKeys: options.linearizableKeys ?? false,
        });
  unknown.push(...inference.unknown);
  if (history.unexpected.length > 0) {
    unknown.push(
      `unexpected-txn-micro-op-types: ${history.unexpected.join(', ')} (${options.workload} knows ${options.workload === 'list-append' ? 'append and r' : 'w and r'})`,
    );
  }
  if (history.skipped > 0) notes.push(`${history.skipped} ops that are not txns were skipped`);
  if (!txns.some((t) => t.status === 'ok'))
    unknown.push('empty-transaction-graph: no txn completed ok');

  addProcessEdges(txns, inference.edges);
  if (hasInvocations) addRealtimeEdges(txns, inference.edges);
  else {
    notes.push('completions only (no invocations): realtime edges cannot be inferred');
    // Strict serializability forbids G1-realtime and G2-realtime, for instance.
    if (targets.some((a) => a.endsWith('-realtime'))) {
      unknown.push(
        'realtime order unknown: the history has no invocations, so real-time anomalies cannot be ruled out',
      );
    }
  }

  const pairs: { base: CycleBase; suffix: CycleSuffix }[] = [];
  for (const suffix of CYCLE_SUFFIXES) {
    if (suffix === '-realtime' && !hasInvocations) continue;
    for (const base of CYCLE_BASES)
      if (relevant.has(`${base}${suffix}`)) pairs.push({ base, suffix });
  }
  const search = findCycles(txns.length, inference.edges, {
    pairs,
    ...(options.searchBudget !== undefined ? { budget: options.searchBudget } : {}),
  });

  const anomalies: Record<string, AnomalyReport[]> = {};
  const sortedCycles = [...search.cycles].sort((a, b) => a.steps.length - b.steps.length);
  for (const c of sortedCycles) {
    const list = anomalies[c.anomaly] ?? [];
    list.push(cycleReport(c.anomaly, c.steps, txns, inference));
    anomalies[c.anomaly] = list;
  }
  for (const [type, list] of inference.findings) {
    if (!relevant.has(type)) continue;
    anomalies[type] = list.map((f) => ({
      type,
      txns: f.txns.map((id) => summarize(txns[id]!)),
      text: f.text,
    }));
  }
  const anomalyTypes = Object.keys(anomalies).sort();
  if (search.timedOut.length > 0) {
    unknown.push(
      `cycle-search-timeout: ${search.timedOut.join(', ')} (budget spent before a cycle was found)`,
    );
  }
  const { not, alsoNot } = modelsRuledOut(anomalyTypes);
  const inputUnknown = inference.unknown.length > 0 || history.unexpected.length > 0;
  const valid: ElleVerdict = inputUnknown
    ? 'unknown'
    : anomalyTypes.length > 0
      ? false
      : unknown.length > 0
        ? 'unknown'
        : true;
  return {
    valid,
    workload: options.workload,
    consistencyModels: models,
    checked: [...relevant].sort(),
    anomalyTypes,
    anomalies,
    not,
    alsoNot,
    realtime: hasInvocations,
    unknown,
    notes,
    txns: txns.length,
  };
}
