import { checkLinearizability } from '../checker/linearizability.js';
import { linearizabilityResults } from '../checker/results.js';
import type { CheckerReport, WorkloadChecker } from './types.js';

/** Linearizability of the client ops against a named model (P-compositional for kv). */
export function linearizabilityChecker(model: string, initial?: unknown): WorkloadChecker {
  return {
    name: 'linearizability',
    async check({ events, ops, timeoutMs }): Promise<CheckerReport> {
      const opts: Parameters<typeof checkLinearizability>[1] = { model, verbose: true };
      if (initial !== undefined) opts.initial = initial;
      if (timeoutMs !== undefined) opts.timeoutMs = timeoutMs;
      const outcome = await checkLinearizability(ops, opts);
      const results = linearizabilityResults({
        history: 'history.jsonl',
        format: 'jsonl',
        warnings: [],
        ops,
        outcome,
        ...(initial !== undefined ? { initial } : {}),
        partitioned: true,
        decideAll: false,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      });
      const result = results.checkers.linearizability!;
      // Always drawable: the anomaly's window, or (valid) the history, windowed by the renderer.
      return { result, timeline: { ops, result: outcome, events, timeUnit: 'ns' } };
    },
  };
}

/** Counts per outcome and per function: always valid; context for the other verdicts. */
export const statsChecker: WorkloadChecker = {
  name: 'stats',
  async check({ ops }): Promise<CheckerReport> {
    const byF: Record<string, { ok: number; fail: number; info: number; pending: number }> = {};
    const total = { ok: 0, fail: 0, info: 0, pending: 0 };
    for (const op of ops) {
      byF[op.f] ??= { ok: 0, fail: 0, info: 0, pending: 0 };
      byF[op.f]![op.status]++;
      total[op.status]++;
    }
    return { result: { valid: true, ...total, count: ops.length, byF } };
  },
};
