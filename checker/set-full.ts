/**
 * Set-full analysis (in the spirit of Jepsen's set-full), per key, for a set with unique
 * elements: `add` key element, optional `remove` key element, `read` key → elements.
 *
 * Final reads: the last replica-read round (each replica's state, a missing key being the empty
 * set), or, with no replica-read ops, each process's last read of the key after the heal.
 *
 * - lost: an acknowledged add whose element is absent from every final read, and that no
 *   remove could explain (a non-failed remove of the element that did not complete before the
 *   add was invoked). With a replica missing from the last round the element may still be
 *   there: it is `possiblyLost` and the verdict is unknown rather than false.
 * - unexpected: an element read (in any read) that no add of that key ever attempted.
 * - failedButPresent: an element read whose every add attempt failed (`fail`: certainly did
 *   not happen).
 * - recovered: an element whose adds were all indeterminate (info/pending) and that was read.
 * - stale read: a client read r (ok) of the key and an element e such that e's add was
 *   acknowledged before r was invoked, e is missing from r, and a later read (invoked after r
 *   completed: a client read or a final read) contains e. Elements are unique and an OR-set
 *   remove is permanent, so e seen again later means no remove had taken effect by r.
 *   Stale reads are normal for an eventually consistent set; they invalidate only with
 *   `linearizable: true`.
 * - stable latency of an element: reads (client reads and the final reads) ordered by invoke
 *   time; the element is stably visible from the first read after which every read contains
 *   it (it must be in the last one); latency = that read's invoke time minus the add's invoke
 *   time (≥ 0).
 *
 * Valid: nothing lost, nothing unexpected, no failed add read (and no stale read when
 * linearizable). Unknown: a key with acknowledged adds that no final read covers.
 */
import type { ClientOp } from './history/client-op.js';
import type { HistoryEvent, ProcessId } from './history/event.js';
import { stringifyJson } from './history/json.js';
import type { Verdict } from './porcupine/types.js';
import {
  capSentences,
  clientReadState,
  collectFinalReads,
  type FinalReadSource,
  type FinalRound,
  finalClientReads,
  keyLabel,
  type LatencyStats,
  latencyStats,
  listOf,
  listValues,
  nsToMs,
  opsByKey,
  plural,
  type SetState,
  statesOfKey,
  type ValueId,
  valueId,
} from './replica-reads.js';

export interface SetFullOptions {
  /** Stale reads invalidate (the set claims linearizable reads). Default false. */
  linearizable?: boolean;
}

export interface SetElementRef {
  key: string;
  element: unknown;
  /** History index of the (first) add's invoke; for unexpected elements, of the first read. */
  index: number;
  process: ProcessId;
}

export interface StaleRead {
  key: string;
  element: unknown;
  /** History index of the stale read's invoke. */
  index: number;
  process: ProcessId;
  node?: string;
  readAtMs: number;
  addCompletedAtMs: number;
  /** History index of the latest read that contains the element again. */
  seenAgainIndex: number;
}

export interface SetKeyResult {
  key: string;
  valid: Verdict;
  attempted: number;
  acknowledged: number;
  /** Final reads covering this key. */
  finalReads: number;
  lost: unknown[];
  possiblyLost: unknown[];
  unexpected: unknown[];
  failedButPresent: unknown[];
  recovered: unknown[];
  staleReadCount: number;
  staleElementCount: number;
  /** Elements stably visible by the end. */
  stable: number;
  stableLatencyMs: LatencyStats | null;
}

export interface SetFullResult {
  checker: 'set-full';
  valid: Verdict;
  summary: string[];
  linearizable: boolean;
  source: FinalReadSource;
  replicas: string[];
  finalRound: number | null;
  keys: SetKeyResult[];
  /** Across keys, the first 1000 of each kind (counts give the totals). */
  lost: SetElementRef[];
  lostCount: number;
  possiblyLost: SetElementRef[];
  unexpected: SetElementRef[];
  unexpectedCount: number;
  failedButPresent: SetElementRef[];
  recovered: SetElementRef[];
  recoveredCount: number;
  /** The first 100 stale reads. */
  staleReads: StaleRead[];
  staleReadCount: number;
  stableLatencyMs: LatencyStats | null;
}

const MAX_LIST = 1000;
const MAX_STALE = 100;

interface Element {
  value: unknown;
  index: number;
  process: ProcessId;
  /** Earliest invoke among non-failed adds (Infinity: every attempt failed). */
  call: number;
  /** Earliest completion among acknowledged adds (Infinity: none acknowledged). */
  okReturn: number;
  indeterminate: boolean;
  /** Latest completion among non-failed removes (-Infinity: none). */
  removeReturn: number;
  /**
   * The reads containing it, as a linked list through the key's occurrence arrays (newest
   * first): its last occurrence, -1 when never read. No array per element: a million
   * occurrences cost two typed arrays.
   */
  lastOcc: number;
  inFinal: boolean;
}

interface Read {
  call: number;
  return: number;
  index: number;
  process: ProcessId;
  node: string | undefined;
  elements: readonly unknown[];
  /** A client read during the run (may be stale), rather than a replica's final state. */
  client: boolean;
  /** One of the final reads. */
  final: boolean;
}

export function checkSetFull(
  input: { events: readonly HistoryEvent[]; ops: readonly ClientOp[] },
  options: SetFullOptions = {},
): SetFullResult {
  const linearizable = options.linearizable ?? false;
  const finals = collectFinalReads(input, 'set');
  const last = finals.rounds.at(-1);
  const setOps = opsByKey(
    input.ops,
    (op) => op.f === 'add' || op.f === 'remove' || (op.f === 'read' && op.status === 'ok'),
  );
  const keys = new Set<string>([...setOps.keys(), ...(last ? last.byKey.keys() : [])]);
  // Jepsen-style fallback: the final reads are client reads (history indices of their invokes).
  const finalClientIndices =
    finals.source === 'final-read'
      ? new Set(finalClientReads(input.ops, finals.healTime).map((op) => op.invoke.index))
      : undefined;

  const result: SetFullResult = {
    checker: 'set-full',
    valid: true,
    summary: [],
    linearizable,
    source: finals.source,
    replicas: finals.replicas,
    finalRound: last?.round ?? null,
    keys: [],
    lost: [],
    lostCount: 0,
    possiblyLost: [],
    unexpected: [],
    unexpectedCount: 0,
    failedButPresent: [],
    recovered: [],
    recoveredCount: 0,
    staleReads: [],
    staleReadCount: 0,
    stableLatencyMs: null,
  };
  const allLatencies: number[] = [];
  let anomaly = false;
  let undecided = last === undefined;
  const summary: string[] = [];

  for (const key of [...keys].sort()) {
    const k = analyseKey(key, setOps.get(key) ?? [], last, finalClientIndices, linearizable);
    result.keys.push(k.result);
    for (const l of k.latencies) allLatencies.push(l);
    const r = k.result;
    const refs = (values: unknown[], target: SetElementRef[]): void => {
      for (const v of values) {
        if (target.length >= MAX_LIST) break;
        target.push(k.ref(v));
      }
    };
    refs(r.lost, result.lost);
    refs(r.possiblyLost, result.possiblyLost);
    refs(r.unexpected, result.unexpected);
    refs(r.failedButPresent, result.failedButPresent);
    refs(r.recovered, result.recovered);
    result.lostCount += r.lost.length;
    result.unexpectedCount += r.unexpected.length;
    result.recoveredCount += r.recovered.length;
    result.staleReadCount += r.staleReadCount;
    for (const s of k.stale) if (result.staleReads.length < MAX_STALE) result.staleReads.push(s);

    if (r.lost.length > 0) {
      summary.push(
        `${plural(r.lost.length, 'acknowledged add')} lost on ${keyLabel(key)}: ${listValues(r.lost)}`,
      );
    }
    if (r.unexpected.length > 0) {
      summary.push(
        `${plural(r.unexpected.length, 'unexpected element')} read on ${keyLabel(key)} (never added): ${listValues(r.unexpected)}`,
      );
    }
    if (r.failedButPresent.length > 0) {
      summary.push(
        `${plural(r.failedButPresent.length, 'element')} read on ${keyLabel(key)} though every add of it failed: ${listValues(r.failedButPresent)}`,
      );
    }
    if (linearizable && r.staleReadCount > 0) {
      const first = k.stale[0]!;
      summary.push(
        `${plural(r.staleReadCount, 'stale read')} on ${keyLabel(key)} (an element acknowledged before ` +
          `the read began was missing, and read again later; first: ${stringifyJson(first.element)} ` +
          `missing from the read at index ${first.index} by process ${first.process})`,
      );
    }
    if (r.possiblyLost.length > 0) {
      summary.push(
        `${plural(r.possiblyLost.length, 'acknowledged add')} on ${keyLabel(key)} missing from the final ` +
          `reads, but ${listOf(last?.missing ?? [])} could not be read: ${listValues(r.possiblyLost)}`,
      );
    }
    if (r.finalReads === 0 && r.acknowledged > 0) {
      summary.push(
        `no final read of ${keyLabel(key)}: ${plural(r.acknowledged, 'acknowledged add')} not judged`,
      );
    }
    if (r.valid === false) anomaly = true;
    else if (r.valid === 'unknown') undecided = true;
  }
  if (last === undefined) summary.push('no final reads to judge the set by');

  result.valid = anomaly ? false : undecided ? 'unknown' : true;
  result.summary = result.valid === true ? [] : capSentences(summary);
  result.stableLatencyMs = latencyStats(allLatencies);
  return result;
}

interface KeyAnalysis {
  result: SetKeyResult;
  stale: StaleRead[];
  latencies: number[];
  ref(v: unknown): SetElementRef;
}

function analyseKey(
  key: string,
  ops: readonly ClientOp[],
  last: FinalRound<SetState> | undefined,
  finalClientIndices: ReadonlySet<number> | undefined,
  linearizable: boolean,
): KeyAnalysis {
  const elements = new Map<ValueId, Element>();
  const reads: Read[] = [];
  let attempted = 0;
  let acknowledged = 0;

  for (const op of ops) {
    if (op.f === 'add') {
      attempted++;
      if (op.status === 'ok') acknowledged++;
      const value = op.invoke.value;
      const id = valueId(value);
      let el = elements.get(id);
      if (el === undefined) {
        el = {
          value,
          index: op.invoke.index,
          process: op.process,
          call: Number.POSITIVE_INFINITY,
          okReturn: Number.POSITIVE_INFINITY,
          indeterminate: false,
          removeReturn: Number.NEGATIVE_INFINITY,
          lastOcc: -1,
          inFinal: false,
        };
        elements.set(id, el);
      }
      if (op.status !== 'fail') el.call = Math.min(el.call, op.call);
      if (op.status === 'ok') el.okReturn = Math.min(el.okReturn, op.return);
      if (op.status === 'info' || op.status === 'pending') el.indeterminate = true;
    } else if (op.f === 'read') {
      const c = op.completion!;
      reads.push({
        call: op.call,
        return: op.return,
        index: op.invoke.index,
        process: op.process,
        node: c.node ?? op.invoke.node,
        elements: clientReadState('set', c).elements,
        client: true,
        final: finalClientIndices?.has(op.invoke.index) ?? false,
      });
    }
  }
  // Removes after adds: a remove may be invoked before the add it removes (it may observe it).
  for (const op of ops) {
    if (op.f !== 'remove' || op.status === 'fail') continue;
    const el = elements.get(valueId(op.invoke.value));
    if (el !== undefined) el.removeReturn = Math.max(el.removeReturn, op.return);
  }

  let finalReads = 0;
  if (finalClientIndices === undefined && last !== undefined) {
    for (const { state, read } of statesOfKey(last, 'set', key)) {
      finalReads++;
      reads.push({
        call: read.call,
        return: read.return,
        index: read.index,
        process: read.replica,
        node: read.replica,
        elements: state.elements,
        client: false,
        final: true,
      });
    }
  } else {
    for (const r of reads) if (r.final) finalReads++;
  }
  reads.sort((a, b) => a.call - b.call);

  // One pass over every element of every read, in invoke order.
  let total = 0;
  for (const r of reads) total += r.elements.length;
  const occRead = new Int32Array(total);
  const occPrev = new Int32Array(total);
  let occ = 0;
  const unexpected = new Map<ValueId, { value: unknown; index: number; process: ProcessId }>();
  for (let i = 0; i < reads.length; i++) {
    const r = reads[i]!;
    for (const v of r.elements) {
      const id = valueId(v);
      const el = elements.get(id);
      if (el === undefined) {
        if (!unexpected.has(id))
          unexpected.set(id, { value: v, index: r.index, process: r.process });
        continue;
      }
      if (r.final) el.inFinal = true;
      if (el.lastOcc >= 0 && occRead[el.lastOcc] === i) continue; // listed twice in one read
      occRead[occ] = i;
      occPrev[occ] = el.lastOcc;
      el.lastOcc = occ++;
    }
  }

  const missingReplicas =
    finalClientIndices === undefined && last !== undefined && last.missing.length > 0;
  const lost: unknown[] = [];
  const possiblyLost: unknown[] = [];
  const failedButPresent: unknown[] = [];
  const recovered: unknown[] = [];
  const stale: StaleRead[] = [];
  let staleElementCount = 0;
  let staleReadCount = 0;
  const latencies: number[] = [];
  const calls = Float64Array.from(reads, (r) => r.call);
  const n = reads.length;

  for (const el of elements.values()) {
    const acked = el.okReturn !== Number.POSITIVE_INFINITY;
    const seen = el.lastOcc >= 0;
    if (seen && el.call === Number.POSITIVE_INFINITY) failedButPresent.push(el.value);
    if (seen && !acked && el.indeterminate) recovered.push(el.value);
    if (acked && finalReads > 0 && !el.inFinal && el.removeReturn < el.call) {
      (missingReplicas ? possiblyLost : lost).push(el.value);
    }
    if (!seen) continue;
    const lastRead = occRead[el.lastOcc]!;
    // Stable visibility: the run of consecutive reads containing it that ends with the last read.
    if (lastRead === n - 1 && el.call !== Number.POSITIVE_INFINITY) {
      let from = lastRead;
      for (let o = occPrev[el.lastOcc]!; o >= 0 && occRead[o] === from - 1; o = occPrev[o]!) from--;
      latencies.push(Math.max(0, nsToMs(reads[from]!.call - el.call)));
    }
    if (!acked) continue;
    // Stale reads: client reads invoked after the add completed and completed before the last
    // read containing it was invoked, that miss it. Walk down through the gaps between the
    // reads that contain it.
    const seenAgain = reads[lastRead]!;
    const a = upperBound(calls, el.okReturn);
    const b = lowerBound(calls, seenAgain.call);
    let staleHere = 0;
    let o = el.lastOcc;
    while (o >= 0 && occRead[o]! >= b) o = occPrev[o]!;
    let i = b - 1;
    while (i >= a) {
      // Reads (contained, i] miss it; `contained` is the next lower read that has it.
      const contained = o >= 0 ? occRead[o]! : -1;
      for (const stop = Math.max(contained, a - 1); i > stop; i--) {
        const r = reads[i]!;
        if (!r.client || r.return >= seenAgain.call) continue;
        staleHere++;
        if (stale.length < MAX_STALE) {
          const s: StaleRead = {
            key,
            element: el.value,
            index: r.index,
            process: r.process,
            readAtMs: nsToMs(r.call),
            addCompletedAtMs: nsToMs(el.okReturn),
            seenAgainIndex: seenAgain.index,
          };
          if (r.node !== undefined) s.node = r.node;
          stale.push(s);
        }
      }
      if (contained < a) break;
      i = contained - 1;
      o = occPrev[o]!;
    }
    if (staleHere > 0) {
      staleElementCount++;
      staleReadCount += staleHere;
    }
  }
  stale.sort((x, y) => x.index - y.index);

  const unexpectedValues = [...unexpected.values()];
  const anomaly =
    lost.length > 0 ||
    unexpectedValues.length > 0 ||
    failedButPresent.length > 0 ||
    (staleReadCount > 0 && linearizable);
  const undecided = possiblyLost.length > 0 || (finalReads === 0 && acknowledged > 0);
  const result: SetKeyResult = {
    key,
    valid: anomaly ? false : undecided ? 'unknown' : true,
    attempted,
    acknowledged,
    finalReads,
    lost,
    possiblyLost,
    unexpected: unexpectedValues.map((u) => u.value),
    failedButPresent,
    recovered,
    staleReadCount,
    staleElementCount,
    stable: latencies.length,
    stableLatencyMs: latencyStats(latencies),
  };
  return {
    result,
    stale,
    latencies,
    ref(v: unknown): SetElementRef {
      const id = valueId(v);
      const el = elements.get(id);
      if (el !== undefined) return { key, element: v, index: el.index, process: el.process };
      const u = unexpected.get(id)!;
      return { key, element: v, index: u.index, process: u.process };
    },
  };
}

/** Index of the first sorted item ≥ x. */
function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first sorted item > x. */
function upperBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
