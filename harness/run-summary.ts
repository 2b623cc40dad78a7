import type { Results } from '../checker/results.js';

/**
 * What a person reads at the end of a run: one sentence per anomaly, from every checker's
 * results (linearizability from its partitions; the others from their own `summary` arrays),
 * and a line on availability during faults.
 */

const MAX_LIN_KEYS = 5;

function linearizabilitySentences(
  lin: NonNullable<Results['checkers']['linearizability']>,
): string[] {
  const out: string[] = [];
  const bad = lin.partitions.filter((p) => p.valid !== true);
  for (const p of bad.slice(0, MAX_LIN_KEYS)) {
    const key = p.key === '' ? 'the history' : `key ${p.key}`;
    if (p.valid === 'unknown') {
      out.push(
        `linearizability of ${key} is unknown (${p.reason ?? 'the search ran out of budget'})`,
      );
      continue;
    }
    const e = p.evidence;
    if (e === undefined) {
      out.push(`${key} is not linearizable (${p.operations} operations)`);
      continue;
    }
    const stuck = e.stuck.map((s) => s.description).slice(0, 3);
    out.push(
      `${key} is not linearizable: after ${e.linearized} of its ${p.operations} operations (state ${e.stateAfter}), ` +
        `none of these can come next: ${stuck.join('; ')}${e.stuck.length > stuck.length ? '; …' : ''} (see timeline.html)`,
    );
  }
  if (bad.length > MAX_LIN_KEYS) {
    out.push(`${bad.length - MAX_LIN_KEYS} more keys are not linearizable (results.json)`);
  }
  return out;
}

/** One sentence per anomaly found, across the run's checkers (empty: nothing found). */
export function anomalySentences(results: Results): string[] {
  const out: string[] = [];
  for (const [name, result] of Object.entries(results.checkers)) {
    if (result === undefined) continue;
    if (name === 'linearizability' && 'partitions' in result) {
      out.push(
        ...linearizabilitySentences(result as NonNullable<Results['checkers']['linearizability']>),
      );
      continue;
    }
    const summary = (result as { summary?: unknown }).summary;
    if (Array.isArray(summary)) {
      for (const s of summary) if (typeof s === 'string') out.push(`${name}: ${s}`);
    } else if (result.valid === false) {
      out.push(`${name}: anomaly found (results.json has the evidence)`);
    }
  }
  return out;
}

// Answered: ok, or a definite no (a cas whose precondition did not hold); not answered: unknown
// outcomes and refusals for want of nodes (workloads/checkers.ts, `availability`).
const percent = (x: number | null) =>
  x === null ? 'no ops' : `${(x * 100).toFixed(1)} % answered`;

/** "availability: 63.2 % answered while faults were active (812 ops), 99.8 % answered otherwise (2310 ops)". */
export function availabilityLine(results: Results): string | undefined {
  const a = (results.checkers.stats as { availability?: unknown } | undefined)?.availability as
    | {
        duringFaults: { ops: number; fraction: number | null };
        outsideFaults: { ops: number; fraction: number | null };
      }
    | undefined;
  if (a === undefined) return undefined;
  return (
    `availability: ${percent(a.duringFaults.fraction)} while faults were active (${a.duringFaults.ops} ops), ` +
    `${percent(a.outsideFaults.fraction)} otherwise (${a.outsideFaults.ops} ops)`
  );
}

/** "convergence: replicas agreed 1156 ms after the heal (2 rounds of replica reads)". */
export function convergenceLine(results: Results): string | undefined {
  const c = results.checkers.convergence as
    | { converged?: unknown; timeToConvergeMs?: unknown; rounds?: unknown }
    | undefined;
  if (c === undefined || typeof c.rounds !== 'number' || c.rounds === 0) return undefined;
  const rounds = `${c.rounds} round${c.rounds === 1 ? '' : 's'} of final reads`;
  if (c.converged === true && typeof c.timeToConvergeMs === 'number') {
    return `convergence: replicas agreed ${Math.round(c.timeToConvergeMs)} ms after the heal (${rounds})`;
  }
  return c.converged === true
    ? `convergence: replicas agreed (${rounds})`
    : `convergence: replicas still disagreed after ${rounds}`;
}
