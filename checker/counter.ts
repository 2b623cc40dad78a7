/**
 * The counter checker (PN-counter: `add` with an integer delta, possibly negative; `read`).
 *
 * Final values: every replica's final value of a key lies within
 * [acknowledged + negative indeterminate, acknowledged + positive indeterminate] (acknowledged:
 * the sum of ok deltas, which all happened; indeterminate: info/pending deltas, which may or
 * may not have; fail ones certainly did not), and all replicas hold the same value.
 *
 * Reads during the run are judged against the bounds known at that time: an add acknowledged
 * before the read was invoked must be counted, any other non-failed add invoked before the read
 * completed may be:
 *   lower = acked-before + Σ negative others, upper = acked-before + Σ positive others.
 * A read outside them is reported (`outOfBoundsReads`); it invalidates only with
 * `linearizable: true`, because an eventually consistent replica may lag. A read outside
 * [Σ negative, Σ positive] of all adds invoked before it completed is `impossible`: no replica
 * could ever hold that value, and that always invalidates.
 */
import type { ClientOp } from './history/client-op.js';
import type { HistoryEvent } from './history/event.js';
import type { Verdict } from './porcupine/types.js';
import {
  type CounterState,
  capSentences,
  collectFinalReads,
  type FinalReadSource,
  type FinalRound,
  HistoryShapeError,
  keyLabel,
  listOf,
  nsToMs,
  opsByKey,
  plural,
  REPLICA_READ,
  statesOfKey,
} from './replica-reads.js';

export interface CounterBounds {
  /** Σ of acknowledged (ok) deltas. */
  acknowledged: number;
  /** Σ of indeterminate (info/pending) positive deltas. */
  indeterminatePositive: number;
  /** Σ of indeterminate negative deltas (≤ 0). */
  indeterminateNegative: number;
  lower: number;
  upper: number;
}

export interface CounterOptions {
  /** Reads during the run must respect real-time bounds (default false: eventual reads). */
  linearizable?: boolean;
}

export interface CounterReplicaValue {
  replica: string;
  value: number;
  inBounds: boolean;
}

export interface CounterKeyResult extends CounterBounds {
  key: string;
  adds: { ok: number; indeterminate: number; fail: number };
  /** Final value per replica (empty when no final read covers the key). */
  final: CounterReplicaValue[];
  /** All final values equal. */
  agree: boolean;
  outOfBoundsReads: number;
}

export interface CounterReadViolation {
  key: string;
  /** History index of the read's invoke. */
  index: number;
  process: string | number;
  node?: string;
  value: number;
  /** The bounds known at the time of the read. */
  lower: number;
  upper: number;
  /** Outside even [Σ negative, Σ positive] of the adds invoked before it completed. */
  impossible: boolean;
  atMs: number;
}

export interface CounterResult {
  checker: 'counter';
  valid: Verdict;
  summary: string[];
  source: FinalReadSource;
  replicas: string[];
  /** The final round judged (replica-read round number; 0 in the fallback); null if none. */
  finalRound: number | null;
  keys: CounterKeyResult[];
  /** Out-of-bounds reads during the run: the first 100. */
  outOfBoundsReads: CounterReadViolation[];
  outOfBoundsReadCount: number;
  impossibleReadCount: number;
}

const MAX_EXAMPLES = 100;

/** An add's delta, checked against the contract (an integer). */
export function addDelta(op: ClientOp): number {
  const v = op.invoke.value;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new HistoryShapeError(op.invoke.index, 'value', 'expected an integer delta', 'add');
  }
  return v;
}

export function counterBounds(adds: readonly ClientOp[]): CounterBounds {
  let acknowledged = 0;
  let indeterminatePositive = 0;
  let indeterminateNegative = 0;
  for (const op of adds) {
    const d = addDelta(op);
    if (op.status === 'ok') acknowledged += d;
    else if (op.status !== 'fail') {
      if (d > 0) indeterminatePositive += d;
      else indeterminateNegative += d;
    }
  }
  return {
    acknowledged,
    indeterminatePositive,
    indeterminateNegative,
    lower: acknowledged + indeterminateNegative,
    upper: acknowledged + indeterminatePositive,
  };
}

export function checkCounter(
  input: { events: readonly HistoryEvent[]; ops: readonly ClientOp[] },
  options: CounterOptions = {},
): CounterResult {
  const linearizable = options.linearizable ?? false;
  const finals = collectFinalReads(input, 'counter');
  const last = finals.rounds.at(-1);
  const addsByKey = opsByKey(input.ops, (op) => op.f === 'add');
  const readsByKey = opsByKey(input.ops, (op) => op.f === 'read' && op.status === 'ok');

  const keys = new Set<string>([...addsByKey.keys(), ...(last ? last.byKey.keys() : [])]);
  const summary: string[] = [];
  const violations: CounterReadViolation[] = [];
  let outOfBoundsReadCount = 0;
  let impossibleReadCount = 0;
  let anomaly = false;
  let undecided = last === undefined;
  const results: CounterKeyResult[] = [];

  for (const key of [...keys].sort()) {
    const adds = addsByKey.get(key) ?? [];
    const bounds = counterBounds(adds);
    const final = last ? finalValues(last, key, bounds) : [];
    const agree = final.every((f) => f.value === final[0]!.value);
    const reads = readsByKey.get(key) ?? [];
    const bad = readViolations(key, adds, reads);
    outOfBoundsReadCount += bad.length;
    for (const v of bad) {
      if (v.impossible) impossibleReadCount++;
      if (violations.length < MAX_EXAMPLES) violations.push(v);
    }
    results.push({
      key,
      ...bounds,
      adds: countStatuses(adds),
      final,
      agree,
      outOfBoundsReads: bad.length,
    });

    const outside = final.filter((f) => !f.inBounds);
    if (outside.length > 0) {
      anomaly = true;
      summary.push(
        `${keyLabel(key)}: ${listOf(outside.map((f) => `${f.replica} holds ${f.value}`))}, outside ` +
          `[${bounds.lower}, ${bounds.upper}] (acknowledged ${bounds.acknowledged}, ` +
          `indeterminate +${bounds.indeterminatePositive}/${bounds.indeterminateNegative})`,
      );
    }
    if (!agree) {
      anomaly = true;
      summary.push(
        `replicas disagree on ${keyLabel(key)}: ${listOf(final.map((f) => `${f.replica} holds ${f.value}`))}`,
      );
    }
    if (final.length === 0 && adds.some((a) => a.status !== 'fail')) undecided = true;
    const impossible = bad.filter((v) => v.impossible);
    if (impossible.length > 0) {
      anomaly = true;
      summary.push(
        `${plural(impossible.length, 'read')} on ${keyLabel(key)} returned a value no replica could hold ` +
          `(${describeRead(impossible[0]!)})`,
      );
    }
    if (linearizable && bad.length > impossible.length) {
      anomaly = true;
      const first = bad.find((v) => !v.impossible)!;
      summary.push(
        `${plural(bad.length - impossible.length, 'read')} on ${keyLabel(key)} outside the bounds ` +
          `known at the time (${describeRead(first)})`,
      );
    }
  }

  if (last !== undefined && last.missing.length > 0) {
    undecided = true;
    if (!anomaly) {
      summary.push(`no final value from ${listOf(last.missing)} in the last round (${last.round})`);
    }
  }
  if (last === undefined) summary.push('no final reads to judge the counter by');
  const valid: Verdict = anomaly ? false : undecided ? 'unknown' : true;
  return {
    checker: 'counter',
    valid,
    summary: valid === true ? [] : capSentences(summary),
    source: finals.source,
    replicas: finals.replicas,
    finalRound: last?.round ?? null,
    keys: results,
    outOfBoundsReads: violations,
    outOfBoundsReadCount,
    impossibleReadCount,
  };
}

function describeRead(v: CounterReadViolation): string {
  return `first: the read at index ${v.index} by process ${v.process} returned ${v.value}, bounds [${v.lower}, ${v.upper}]`;
}

function countStatuses(adds: readonly ClientOp[]): CounterKeyResult['adds'] {
  const c = { ok: 0, indeterminate: 0, fail: 0 };
  for (const a of adds) {
    if (a.status === 'ok') c.ok++;
    else if (a.status === 'fail') c.fail++;
    else c.indeterminate++;
  }
  return c;
}

export function finalValues(
  round: FinalRound<CounterState>,
  key: string,
  bounds: Pick<CounterBounds, 'lower' | 'upper'>,
): CounterReplicaValue[] {
  return statesOfKey(round, 'counter', key).map(({ replica, state }) => ({
    replica,
    value: state.value,
    inBounds: state.value >= bounds.lower && state.value <= bounds.upper,
  }));
}

/** Prefix sums over ops sorted by a time. */
interface Prefix {
  times: Float64Array;
  sum: Float64Array;
  pos: Float64Array;
  neg: Float64Array;
}

function prefix(items: Array<{ t: number; d: number }>): Prefix {
  items.sort((a, b) => a.t - b.t);
  const n = items.length;
  const p: Prefix = {
    times: new Float64Array(n),
    sum: new Float64Array(n + 1),
    pos: new Float64Array(n + 1),
    neg: new Float64Array(n + 1),
  };
  for (let i = 0; i < n; i++) {
    const { t, d } = items[i]!;
    p.times[i] = t;
    p.sum[i + 1] = p.sum[i]! + d;
    p.pos[i + 1] = p.pos[i]! + (d > 0 ? d : 0);
    p.neg[i + 1] = p.neg[i]! + (d < 0 ? d : 0);
  }
  return p;
}

/** How many of the sorted times satisfy `t < x` (strict) or `t <= x`. */
function countBefore(times: Float64Array, x: number, inclusive: boolean): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const t = times[mid]!;
    if (t < x || (inclusive && t === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function readViolations(
  key: string,
  adds: readonly ClientOp[],
  reads: readonly ClientOp[],
): CounterReadViolation[] {
  if (reads.length === 0) return [];
  const acked = prefix(
    adds.filter((a) => a.status === 'ok').map((a) => ({ t: a.return, d: addDelta(a) })),
  );
  const live = prefix(
    adds.filter((a) => a.status !== 'fail').map((a) => ({ t: a.call, d: addDelta(a) })),
  );
  const out: CounterReadViolation[] = [];
  for (const r of reads) {
    if (r.f === REPLICA_READ) continue;
    const c = r.completion!;
    const value = c.value;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new HistoryShapeError(
        c.index,
        'value',
        'expected the counter value (a number)',
        'read',
      );
    }
    // Acknowledged before the read began: must be counted.
    const a = countBefore(acked.times, r.call, false);
    // Invoked before the read completed: may be counted (includes the acknowledged ones).
    const n = countBefore(live.times, r.return, true);
    const base = acked.sum[a]!;
    const lower = base + (live.neg[n]! - acked.neg[a]!);
    const upper = base + (live.pos[n]! - acked.pos[a]!);
    if (value >= lower && value <= upper) continue;
    const impossible = value < live.neg[n]! || value > live.pos[n]!;
    const v: CounterReadViolation = {
      key,
      index: r.invoke.index,
      process: r.process,
      value,
      lower,
      upper,
      impossible,
      atMs: nsToMs(r.call),
    };
    const node = c.node ?? r.invoke.node;
    if (node !== undefined) v.node = node;
    out.push(v);
  }
  return out;
}
