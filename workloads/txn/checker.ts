/** The transactional checker as a workload checker: results.json's `elle` entry. */
import { checkElle } from '../../checker/elle/check.js';
import { txnsOf } from '../../checker/elle/txns.js';
import type { Workload as TxnWorkload } from '../../checker/elle/types.js';
import type { CheckerReport, WorkloadChecker } from '../../core/workload.js';

/** Instances of each anomaly kept in results.json (the count is given in full). */
const KEPT = 3;

export function elleChecker(
  workload: TxnWorkload,
  consistencyModels: readonly string[],
): WorkloadChecker {
  return {
    name: 'elle',
    async check({ events }): Promise<CheckerReport> {
      const r = checkElle(txnsOf(events, workload), { workload, consistencyModels });
      const anomalies = Object.fromEntries(
        Object.entries(r.anomalies).map(([type, list]) => [
          type,
          { count: list.length, examples: list.slice(0, KEPT) },
        ]),
      );
      return {
        result: {
          valid: r.valid,
          workload,
          consistencyModels: r.consistencyModels,
          anomalyTypes: r.anomalyTypes,
          anomalies,
          not: r.not,
          alsoNot: r.alsoNot,
          ...(r.unknown.length > 0 ? { reason: r.unknown.join('; ') } : {}),
          txns: r.txns,
        },
      };
    },
  };
}
