import { z } from 'zod';
import type { FaultFailover } from '../checker/failover.js';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import type { Results } from '../checker/results.js';
import type { FaultStyle } from '../checker/timeline/index.js';
import { HEAL_ALL_KIND, nemesisIntervals } from '../checker/timeline/index.js';
import { FILES } from './results-folder.js';
import type { ResolvedSpec } from './spec.js';

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

// ---------------------------------------------------------------------------------------------
// summary.json and JUnit: what CI reads of a run.

/** The file CI reads, next to results.json. */
export const SUMMARY_FILE = FILES.summary;

/** Latency percentiles in ms (ok ops); null when no op completed ok. */
export interface LatencyPercentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** The value at quantile `q` of sorted numbers (nearest rank); null for none. */
export function quantile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** p50/p90/p99/max of latencies given in ms (any order). */
export function percentiles(latenciesMs: readonly number[]): LatencyPercentiles {
  const s = Float64Array.from(latenciesMs).sort();
  const r = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
  return {
    p50: r(quantile(s, 0.5)),
    p90: r(quantile(s, 0.9)),
    p99: r(quantile(s, 0.99)),
    max: r(quantile(s, 1)),
  };
}

const verdictSchema = z.union([z.boolean(), z.literal('unknown')]);
const nullableNumber = z.number().nullable();

/** summary.json: one small file per run, for CI and for `faultline serve`'s index and trends. */
export const runSummarySchema = z
  .object({
    summary: z.literal(1),
    name: z.string(),
    startedAt: z.string().optional(),
    system: z.string(),
    backend: z.string(),
    workload: z.string(),
    nodes: z.number(),
    /** The fault kinds the spec asked for. */
    faults: z.array(z.string()),
    /** How many faults of each kind happened (from the history). */
    faultsHappened: z.record(z.string(), z.number()),
    seed: z.number(),
    status: z.string(),
    verdict: z.enum(['valid', 'invalid', 'unknown']),
    valid: verdictSchema,
    reasons: z.array(z.string()),
    checkers: z.array(
      z.object({
        name: z.string(),
        valid: verdictSchema,
        anomalies: z.array(z.string()),
        elapsedMs: z.number().optional(),
      }),
    ),
    anomalies: z.array(z.string()),
    ops: z.object({
      total: z.number(),
      ok: z.number(),
      fail: z.number(),
      info: z.number(),
      pending: z.number(),
    }),
    durationS: z.number(),
    /** ok ops per second over the run. */
    throughput: z.number(),
    latencyMs: z.object({
      p50: nullableNumber,
      p90: nullableNumber,
      p99: nullableNumber,
      max: nullableNumber,
    }),
    /** Fraction of ops answered while faults were active / otherwise. */
    availability: z
      .object({ duringFaults: nullableNumber, outsideFaults: nullableNumber })
      .optional(),
    /** Time to an ok op after a fault started (median and worst, ms), over the run's faults. */
    failoverMs: z.object({ median: nullableNumber, worst: nullableNumber }).optional(),
    warnings: z.array(z.string()),
    reproduce: z.string(),
  })
  .loose();
export type RunSummary = z.infer<typeof runSummarySchema>;

/** Anomaly sentences per checker (the same sentences as `anomalySentences`). */
export function anomaliesByChecker(results: Results): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const name of Object.keys(results.checkers)) {
    const only = { ...results, checkers: { [name]: results.checkers[name] } } as Results;
    out.set(name, anomalySentences(only));
  }
  return out;
}

const shellWord = (s: string): string =>
  /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The command that runs the same test again with the same seed. Settings no flag carries (fault
 * topologies, link shape, a system defined in a module) need the run's config: then it says so.
 */
export function reproduceCommand(spec: ResolvedSpec): string {
  const args: string[] = ['faultline', 'run'];
  const flag = (name: string, value: unknown) => {
    if (value === undefined) return;
    args.push(`--${name}`, shellWord(typeof value === 'string' ? value : JSON.stringify(value)));
  };
  flag('name', spec.name);
  flag('system', spec.systemFrom ?? spec.system);
  flag('backend', spec.backend);
  flag('nodes', spec.nodes);
  flag('max-nodes', spec.maxNodes);
  flag('workload', spec.workload.name);
  for (const [k, v] of Object.entries(spec.workload.options ?? {})) {
    flag('workload-opt', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  const nemesis = spec.nemesis as { faults?: string[]; interval?: number; targets?: string[] };
  flag('nemesis', nemesis.faults && nemesis.faults.length > 0 ? nemesis.faults.join(',') : 'none');
  flag('nemesis-interval', nemesis.interval);
  if (nemesis.targets !== undefined) flag('nemesis-targets', nemesis.targets.join(','));
  flag('concurrency', spec.concurrency);
  flag('rate', spec.rate);
  flag('time-limit', spec.timeLimit);
  flag('recovery', spec.recovery);
  flag('op-timeout', spec.opTimeout);
  for (const [k, v] of Object.entries(spec.settings ?? {})) {
    flag('system-opt', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  flag('min-ok-ops', spec.evidence.minOkOps);
  flag('min-ok-ops-per-key', spec.evidence.minOkOpsPerKey);
  flag('seed', spec.seed);
  return args.join(' ');
}

export interface SummaryInput {
  spec: ResolvedSpec;
  results: Results;
  ops: readonly ClientOp[];
  events: readonly HistoryEvent[];
  startedAt?: string;
  faultStyles?: readonly FaultStyle[];
}

/** The run's summary.json from what the check stage has in hand. */
export function buildRunSummary(input: SummaryInput): RunSummary {
  const { spec, results, ops, events } = input;
  const counts = { total: ops.length, ok: 0, fail: 0, info: 0, pending: 0 };
  const latencies: number[] = [];
  for (const op of ops) {
    counts[op.status] += 1;
    if (op.status === 'ok' && op.completion !== undefined) {
      latencies.push((op.completion.time - op.call) / 1e6);
    }
  }
  const durationS = (events.at(-1)?.time ?? 0) / 1e9;
  const faultsHappened: Record<string, number> = {};
  for (const iv of nemesisIntervals(events, input.faultStyles)) {
    if (iv.kind === HEAL_ALL_KIND) continue;
    faultsHappened[iv.kind] = (faultsHappened[iv.kind] ?? 0) + 1;
  }
  const byChecker = anomaliesByChecker(results);
  const stats = results.checkers.stats as
    | {
        availability?: {
          duringFaults?: { fraction?: number | null };
          outsideFaults?: { fraction?: number | null };
        };
        failover?: FaultFailover[];
      }
    | undefined;
  const recoveries = (stats?.failover ?? [])
    .map((f) => f.recoveredAfterStartMs)
    .filter((x): x is number => x !== null);
  const nemesis = spec.nemesis as { faults?: string[] };
  return {
    summary: 1,
    name: spec.name,
    ...(input.startedAt !== undefined ? { startedAt: input.startedAt } : {}),
    system: spec.system,
    backend: spec.backend,
    workload: spec.workload.name,
    nodes: spec.nodes,
    faults: nemesis.faults ?? [],
    faultsHappened,
    seed: spec.seed,
    status: results.run?.status ?? 'complete',
    verdict:
      results.run?.verdict ??
      (results.valid === true ? 'valid' : results.valid === false ? 'invalid' : 'unknown'),
    valid: results.valid,
    reasons: results.run?.reasons ?? [],
    checkers: Object.entries(results.checkers).flatMap(([name, r]) =>
      r === undefined
        ? []
        : [
            {
              name,
              valid: r.valid,
              anomalies: byChecker.get(name) ?? [],
              ...(typeof r.elapsedMs === 'number' ? { elapsedMs: r.elapsedMs } : {}),
            },
          ],
    ),
    anomalies: anomalySentences(results),
    ops: counts,
    durationS: Math.round(durationS * 1000) / 1000,
    throughput: durationS > 0 ? Math.round((counts.ok / durationS) * 10) / 10 : 0,
    latencyMs: percentiles(latencies),
    ...(stats?.availability !== undefined
      ? {
          availability: {
            duringFaults: stats.availability.duringFaults?.fraction ?? null,
            outsideFaults: stats.availability.outsideFaults?.fraction ?? null,
          },
        }
      : {}),
    ...(stats?.failover !== undefined
      ? {
          failoverMs: {
            median: recoveries.length > 0 ? median(recoveries) : null,
            worst: recoveries.length > 0 ? Math.max(...recoveries) : null,
          },
        }
      : {}),
    warnings: results.warnings,
    reproduce: reproduceCommand(spec),
  };
}

const xml = (s: string): string =>
  s
    // XML 1.0 has no place for most control characters: drop them.
    .replace(/[^\t\n\r\u0020-\u{10ffff}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

/**
 * JUnit XML for a run: one test case per checker (a failure naming the anomaly when it found one,
 * an error when it could not decide), and one for the run itself (status and evidence).
 */
export function junitXml(s: RunSummary, dir?: string): string {
  const suite = `faultline.${s.name}`;
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  const seconds = s.durationS.toFixed(3);
  for (const c of s.checkers) {
    let inner = '';
    if (c.valid === false) {
      failures++;
      const first = c.anomalies[0] ?? `${c.name}: anomaly found`;
      inner = `<failure type="anomaly" message="${xml(first)}">${xml(c.anomalies.join('\n') || first)}</failure>`;
    } else if (c.valid === 'unknown') {
      errors++;
      const why =
        s.reasons.find((r) => r.includes(c.name)) ?? c.anomalies[0] ?? `${c.name} could not decide`;
      inner = `<error type="unknown" message="${xml(why)}">${xml([why, ...c.anomalies].join('\n'))}</error>`;
    }
    cases.push(
      `  <testcase classname="${xml(suite)}" name="${xml(c.name)}" time="${((c.elapsedMs ?? 0) / 1000).toFixed(3)}">${inner ? `\n    ${inner}\n  ` : ''}</testcase>`,
    );
  }
  let runInner = '';
  // The run's own case fails when it could not conclude (or stopped early), not again for an anomaly.
  if ((s.verdict === 'unknown' || s.status !== 'complete') && s.reasons.length > 0) {
    errors++;
    runInner = `<error type="${xml(s.status === 'complete' ? 'unknown' : s.status)}" message="${xml(s.reasons[0]!)}">${xml(s.reasons.join('\n'))}</error>`;
  } else if (s.verdict === 'invalid' && !s.checkers.some((c) => c.valid === false)) {
    failures++;
    runInner = `<failure type="anomaly" message="${xml(s.anomalies[0] ?? 'anomaly found')}"/>`;
  }
  const out = [
    `status ${s.status}, verdict ${s.verdict}, seed ${s.seed}`,
    `${s.ops.total} ops (${s.ops.ok} ok), ${s.throughput} ok ops/s, p99 ${s.latencyMs.p99 ?? '-'} ms`,
    ...(dir !== undefined ? [`results: ${dir}`] : []),
    `reproduce: ${s.reproduce}`,
  ].join('\n');
  cases.push(
    `  <testcase classname="${xml(suite)}" name="run" time="${seconds}">${runInner ? `\n    ${runInner}` : ''}\n    <system-out>${xml(out)}</system-out>\n  </testcase>`,
  );
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="faultline" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${seconds}">\n` +
    `<testsuite name="${xml(suite)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${seconds}"${s.startedAt ? ` timestamp="${xml(s.startedAt.replace(/Z$/, ''))}"` : ''}>\n` +
    `${cases.join('\n')}\n</testsuite>\n</testsuites>\n`
  );
}

/** JUnit XML for a run that produced no verdict at all (it did not start, or faultline broke). */
export function junitRunError(name: string, message: string): string {
  const suite = xml(`faultline.${name}`);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="faultline" tests="1" failures="0" errors="1">\n<testsuite name="${suite}" tests="1" failures="0" errors="1">\n` +
    `  <testcase classname="${suite}" name="run" time="0">\n    <error type="error" message="${xml(message.split('\n')[0] ?? message)}">${xml(message)}</error>\n  </testcase>\n` +
    '</testsuite>\n</testsuites>\n'
  );
}

/** Reads a run folder's summary.json (undefined when absent or not a summary). */
export function readRunSummary(text: string): RunSummary | undefined {
  try {
    const parsed = runSummarySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
