import type { ReplicaDataType } from '../checker/convergence.js';
import { checkConvergence } from '../checker/convergence.js';
import { checkCounter } from '../checker/counter.js';
import { checkSetFull } from '../checker/set-full.js';
import type { CheckerReport, WorkloadChecker } from '../core/workload.js';

/**
 * The eventual-consistency checkers as workload checkers (the checker functions live in
 * checker/; these only name them in results.json). Each result carries `summary`: sentences
 * naming every anomaly, which the run's summary prints.
 */

/** Final replica states: all replicas agree per key and nothing acknowledged is lost. */
export function convergenceChecker(type: ReplicaDataType): WorkloadChecker {
  return {
    name: 'convergence',
    async check({ events, ops }): Promise<CheckerReport> {
      return { result: { ...checkConvergence({ events, ops }, { type }) } };
    },
  };
}

/** Set-full analysis: lost, unexpected, recovered and stale elements, time to stable visibility. */
export const setFullChecker: WorkloadChecker = {
  name: 'set-full',
  async check({ events, ops }): Promise<CheckerReport> {
    return { result: { ...checkSetFull({ events, ops }) } };
  },
};

/** Counter bounds: final values within [acknowledged, acknowledged + indeterminate], equal everywhere. */
export const counterChecker: WorkloadChecker = {
  name: 'counter',
  async check({ events, ops }): Promise<CheckerReport> {
    return { result: { ...checkCounter({ events, ops }) } };
  },
};
