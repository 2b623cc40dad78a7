import { failoverTimes } from '../checker/failover.js';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { isNemesisEvent } from '../checker/history/event.js';
import { checkLinearizability } from '../checker/linearizability.js';
import { linearizabilityResults } from '../checker/results.js';
import { HEAL_ALL_KIND, nemesisIntervals } from '../checker/timeline/index.js';
import type { CheckerReport, WorkloadChecker } from '../core/workload.js';

export interface LinearizabilityCheckerOptions {
  /**
   * The ops the model judges, as the model sees them (e.g. only reads and writes, a read's
   * array of values as one value). Default: every client op as recorded.
   */
  select?(ops: readonly ClientOp[]): ClientOp[];
}

/** Linearizability of the client ops against a named model (P-compositional for kv). */
export function linearizabilityChecker(
  model: string,
  initial?: unknown,
  checkerOptions: LinearizabilityCheckerOptions = {},
): WorkloadChecker {
  return {
    name: 'linearizability',
    async check({ events, ops: allOps, timeoutMs }): Promise<CheckerReport> {
      const ops = checkerOptions.select?.(allOps) ?? allOps;
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

/** How many of the client ops invoked in one kind of time window the system answered. */
export interface Availability {
  ops: number;
  ok: number;
  /**
   * ok, or a definite `fail` that is an answer (a cas whose precondition did not hold). Not
   * answered: `info`, pending, and a `fail` refused for want of nodes (completion
   * `unavailable: true`, from the client's error rules).
   */
  answered: number;
  /** answered / ops; null without ops. */
  fraction: number | null;
}

const answered = (op: ClientOp) =>
  op.status === 'ok' || (op.status === 'fail' && op.completion?.unavailable !== true);

/** The time windows in which a fault was in effect, merged and sorted (ns). */
export function faultWindows(events: readonly HistoryEvent[]): [number, number][] {
  const raw = nemesisIntervals(events)
    .filter((iv) => iv.interval && iv.kind !== HEAL_ALL_KIND)
    .map((iv): [number, number] => [iv.start, iv.end])
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [s, e] of raw) {
    const last = merged[merged.length - 1];
    if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  return merged;
}

/** Whether time t falls in one of the sorted, disjoint windows (binary search). */
function inWindows(windows: readonly [number, number][], t: number): boolean {
  let lo = 0;
  let hi = windows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [s, e] = windows[mid] as [number, number];
    if (t < s) hi = mid - 1;
    else if (t >= e) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * Availability during the main phase: the answered fraction of client ops invoked while some
 * fault was in effect vs while none was. Ops from the heal on (final reads, replica reads) are
 * left out: they would flatter the no-fault side.
 */
export function availability(
  events: readonly HistoryEvent[],
  ops: readonly ClientOp[],
): { duringFaults: Availability; outsideFaults: Availability } {
  const windows = faultWindows(events);
  const heal = events.find((e) => isNemesisEvent(e) && e.f === 'heal-all-start');
  const healAt = heal?.time ?? Number.POSITIVE_INFINITY;
  const during = { ops: 0, ok: 0, answered: 0 };
  const outside = { ops: 0, ok: 0, answered: 0 };
  for (const op of ops) {
    if (op.call >= healAt || op.f === 'replica-read') continue;
    const bucket = inWindows(windows, op.call) ? during : outside;
    bucket.ops++;
    if (op.status === 'ok') bucket.ok++;
    if (answered(op)) bucket.answered++;
  }
  const done = (b: { ops: number; ok: number; answered: number }): Availability => ({
    ...b,
    fraction: b.ops === 0 ? null : b.answered / b.ops,
  });
  return { duringFaults: done(during), outsideFaults: done(outside) };
}

/**
 * Counts per outcome and per function, availability while faults were in effect vs not, and
 * the failover times of each fault (checker/failover.ts): always valid; context for the other
 * verdicts.
 */
export const statsChecker: WorkloadChecker = {
  name: 'stats',
  async check({ events, ops, faultStyles }): Promise<CheckerReport> {
    const byF: Record<string, { ok: number; fail: number; info: number; pending: number }> = {};
    const total = { ok: 0, fail: 0, info: 0, pending: 0 };
    for (const op of ops) {
      byF[op.f] ??= { ok: 0, fail: 0, info: 0, pending: 0 };
      byF[op.f]![op.status]++;
      total[op.status]++;
    }
    return {
      result: {
        valid: true,
        ...total,
        count: ops.length,
        byF,
        availability: availability(events, ops),
        failover: failoverTimes(events, ops, faultStyles),
      },
    };
  },
};
