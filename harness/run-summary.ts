import type { FaultFailover } from '../checker/failover.js';
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

/** "1.3 s", or "40 ms" below a tenth of a second. */
function duration(ms: number): string {
  return ms < 100 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "a kill of n2 at 4.1 s". */
function faultName(f: FaultFailover): string {
  const of = f.nodes !== undefined ? ` of ${f.nodes.join(', ')}` : '';
  const article = /^[aeiou]/.test(f.kind) ? 'an' : 'a';
  return `${article} ${f.kind}${of} at ${f.start.toFixed(1)} s`;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One side (after the start, after the heal) over many faults: median, worst, and the misses. */
function acrossFaults(
  faults: readonly FaultFailover[],
  time: (f: FaultFailover) => number | null,
  missing: string,
): string {
  const timed = faults.filter((f) => time(f) !== null);
  const misses = faults.length - timed.length;
  const parts: string[] = [];
  if (timed.length > 0) {
    const worst = timed.reduce((a, b) => (time(b)! > time(a)! ? b : a));
    parts.push(
      `median ${duration(median(timed.map((f) => time(f)!)))}, worst ${duration(time(worst)!)} (${faultName(worst)})`,
    );
  }
  if (misses > 0) parts.push(`${misses} with no ok op ${missing}`);
  return parts.join(', ');
}

/**
 * "failover: after a kill of n2 at 4.1 s, ok again after 1.3 s; after its heal, 0.2 s", from
 * the stats checker's failover times (checker/failover.ts); over many faults, the median and
 * the worst of each side.
 */
export function failoverLine(results: Results): string | undefined {
  const faults = (results.checkers.stats as { failover?: unknown } | undefined)?.failover as
    | FaultFailover[]
    | undefined;
  if (!Array.isArray(faults) || faults.length === 0) return undefined;
  if (faults.length === 1) {
    const f = faults[0]!;
    const start =
      f.recoveredAfterStartMs !== null
        ? `ok again after ${duration(f.recoveredAfterStartMs)}`
        : f.noRecovery?.afterStart === 'healed-first'
          ? 'no ok op until it healed'
          : 'no ok op until the run ended';
    if (f.end === null) return `failover: after ${faultName(f)}, ${start}; it never healed`;
    const heal =
      f.recoveredAfterHealMs !== null
        ? duration(f.recoveredAfterHealMs)
        : 'no ok op before the run ended';
    return `failover: after ${faultName(f)}, ${start}; after its heal, ${heal}`;
  }
  const start = acrossFaults(faults, (f) => f.recoveredAfterStartMs, 'until healed');
  const healed = faults.filter((f) => f.end !== null);
  const heal =
    healed.length === 0
      ? 'none healed'
      : acrossFaults(healed, (f) => f.recoveredAfterHealMs, 'before the run ended');
  return `failover over ${faults.length} faults: ok again after the start: ${start}; after the heal: ${heal}`;
}
