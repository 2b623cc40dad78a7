/**
 * Building `results.json` (./results-schema.ts) from a linearizability check, without zod: what
 * `faultline check` needs on its way to printing a verdict. ./results.ts re-exports it.
 */
import type { ClientOp } from './history/client-op.js';
import type { PartitionInfo, Verdict } from './porcupine/types.js';
import type { LinearizabilityResults, PartitionResults, Results } from './results-schema.js';

/** RESULTS_VERSION, typed by the schema so that the two cannot drift apart. */
const VERSION: Results['faultline'] = 1;

/** A run's verdict from its checkers': false beats unknown, unknown beats true. */
export function combineVerdicts(verdicts: Iterable<Verdict>): Verdict {
  let out: Verdict = true;
  for (const v of verdicts) {
    if (v === false) return false;
    if (v === 'unknown') out = 'unknown';
  }
  return out;
}

/** What `results.json` needs of a `checkLinearizability` result. */
export interface LinearizabilityOutcome {
  valid: Verdict;
  reason?: string;
  model: string;
  operations: number;
  elapsedMs: number;
  partitions: readonly {
    key: string;
    keys?: string[];
    valid: Verdict;
    reason?: string;
    operations: number;
    elapsedMs: number;
    info?: PartitionInfo<unknown, unknown>;
  }[];
}

function evidence(
  info: PartitionInfo<unknown, unknown>,
  ops: readonly ClientOp[],
): NonNullable<PartitionResults['evidence']> {
  const longest = info.longest[0] ?? [];
  return {
    linearized: longest.length,
    stateAfter: longest.length > 0 ? longest[longest.length - 1]!.state : info.initialState,
    stuck: info.stuck.map((s) => {
      const id = info.operations[s]?.id;
      const op = id !== undefined ? ops[id] : undefined;
      return {
        index: op?.invoke.index ?? 0,
        process: op?.process ?? info.operations[s]?.clientId ?? 0,
        description: info.descriptions[s] ?? '?',
      };
    }),
    longestPrefixes: info.longest.length,
  };
}

export interface LinearizabilityResultsInput {
  history: string;
  format: string;
  warnings: readonly string[];
  ops: readonly ClientOp[];
  outcome: LinearizabilityOutcome;
  initial?: unknown;
  partitioned: boolean;
  decideAll: boolean;
  timeoutMs?: number;
}

/** Builds `results.json` for a linearizability check; evidence is kept for non-valid partitions. */
export function linearizabilityResults(input: LinearizabilityResultsInput): Results {
  const { outcome, ops } = input;
  const lin: LinearizabilityResults = {
    checker: 'linearizability',
    valid: outcome.valid,
    ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
    model: outcome.model,
    ...('initial' in input ? { initial: input.initial } : {}),
    partitioned: input.partitioned,
    decideAll: input.decideAll,
    ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
    operations: outcome.operations,
    partitions: outcome.partitions.map((p) => ({
      key: p.key,
      ...(p.keys !== undefined ? { keys: p.keys } : {}),
      valid: p.valid,
      ...(p.reason !== undefined ? { reason: p.reason } : {}),
      operations: p.operations,
      elapsedMs: p.elapsedMs,
      ...(p.valid !== true && p.info ? { evidence: evidence(p.info, ops) } : {}),
    })),
    elapsedMs: outcome.elapsedMs,
  };
  return {
    faultline: VERSION,
    history: input.history,
    format: input.format,
    valid: combineVerdicts([lin.valid]),
    ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
    model: outcome.model,
    ops: ops.length,
    partitions: outcome.partitions.length,
    elapsedMs: outcome.elapsedMs,
    warnings: [...input.warnings],
    checkers: { linearizability: lin },
  };
}
