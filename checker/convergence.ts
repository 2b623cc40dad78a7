/**
 * The eventual-convergence checker, generic over final replica states (see ./replica-reads.ts
 * for how they appear in a history).
 *
 * Valid when, in the last round of final reads, all replicas agree on every key and nothing
 * acknowledged is lost by the data type's rule. Replicas agree on a key when they hold the same
 * values (kv, as a set; lww timestamps aside), the same elements (set) or the same value
 * (counter); a key missing from a replica-read is the empty state. Also measures the time to
 * converge: from the heal to the end of the first round from which every round agreed (all
 * replicas read, all keys agreeing); null when the last round disagrees, and in the Jepsen-style
 * fallback (its one round of final reads says nothing about when the replicas converged).
 * Unknown: no final reads, a replica not read in the last round (and nothing else wrong), or (in
 * the fallback) a key with acknowledged writes that no final read covers.
 *
 * Lost-write rules. Each reports a write only when no correct store could have dropped it, so a
 * report is never a false loss:
 *
 * - `siblings`: a write w can only be causally superseded by a write w' whose context included
 *   w. That context came from a read that saw w, so the read completed after w took effect
 *   (which is no earlier than w's invoke) and before w' was invoked: w'.call > w.call. So an
 *   acknowledged w whose value is on no replica is lost when no other non-failed write (or
 *   delete) of the key was invoked at or after w's invoke. Weak (it mostly catches the last
 *   writes of a key) but sound without knowing each write's context.
 * - `lww`: the final value of a key is the write with the greatest timestamp. With correct
 *   (and fine enough) clocks that order respects real time: a write invoked after another
 *   completed carries a later timestamp. So when the winner(s) on the replicas completed before
 *   w was invoked, w should have beaten them, and w (acknowledged, absent everywhere) is lost to
 *   an older write: the clock-skew signature when the winner's timestamp is the later one
 *   (`timestampsInverted`); with equal timestamps a tie-break decided against w. A winner that may have been ordered after w (it completed
 *   at or after w's invoke, or is indeterminate) excuses w. With no known winner (the key is
 *   empty, or holds only values nobody wrote) the siblings-style rule applies in real time: w is
 *   lost when no other non-failed write of the key completed at or after w's invoke.
 * - kv keys left empty on every replica (all read) although a write was acknowledged (and no
 *   delete was attempted) are reported as `emptiedKeys`: with no deletes, a correct store ends
 *   with some value.
 * - Values on the replicas that no client wrote are `unexpected`.
 * - `set`: an acknowledged add is lost when its element is on no replica and no non-failed
 *   remove of it completed at or after the add's invoke.
 * - `counter`: every replica's value within [acknowledged + Σ negative indeterminate,
 *   acknowledged + Σ positive indeterminate] (./counter.ts).
 *
 * When a replica could not be read in the last round, a would-be loss may still be on it: it is
 * counted as possibly lost and the verdict is unknown rather than false.
 */

import { counterBounds } from './counter.js';
import type { ClientOp, ClientOpStatus } from './history/client-op.js';
import type { HistoryEvent, ProcessId } from './history/event.js';
import { stringifyJson } from './history/json.js';
import type { Verdict } from './porcupine/types.js';
import {
  type CounterState,
  collectFinalReads,
  type FinalReadSource,
  type FinalRound,
  type KvState,
  keyLabel,
  listOf,
  listValues,
  nsToMs,
  opsByKey,
  plural,
  type ReplicaDataType,
  type SetState,
  type StateByKind,
  type StateKind,
  stateAt,
  stateKindOf,
  type ValueId,
  valueId,
  valueOfId,
} from './replica-reads.js';

export type { ReplicaDataType } from './replica-reads.js';

export interface ConvergenceOptions {
  type: ReplicaDataType;
}

export interface ReplicaGroup {
  /** Replicas holding the same state. */
  replicas: string[];
  /** kv: {values, ts?}; counter: {value}; set: {size, missing (vs. the union; first 20), missingCount}. */
  state: unknown;
}

export interface DivergentKey {
  key: string;
  groups: ReplicaGroup[];
}

export interface LostWinner {
  value: unknown;
  /** History index of the invoke of the write that wrote it (the latest-completing one). */
  index: number;
  process: ProcessId;
  status: ClientOpStatus;
  /** The store's timestamp of the winning value, from the replica state. */
  ts?: number;
  completedAtMs: number | null;
}

export interface LostWrite {
  key: string;
  /** The value written (set: the element added). */
  value: unknown;
  /** History index of the write's invoke. */
  index: number;
  process: ProcessId;
  invokedAtMs: number;
  completedAtMs: number;
  /** lww: the timestamp the store reported on the write's completion. */
  ts?: number;
  /** lww: the write whose value won, when known. */
  winner: LostWinner | null;
  /** lww: the winner completed before this write was invoked (the clock-skew signature). */
  winnerOlderInRealTime: boolean;
  /** lww: the winner's timestamp is above this write's (both known), else null. */
  timestampsInverted: boolean | null;
  /** What the replicas hold for the key (union; first 10). */
  finalValues: unknown[];
}

export interface UnexpectedValue {
  key: string;
  value: unknown;
  replicas: string[];
}

export interface CounterOutOfBounds {
  key: string;
  replica: string;
  value: number;
  lower: number;
  upper: number;
  acknowledged: number;
}

export interface ConvergenceResult {
  checker: 'convergence';
  type: ReplicaDataType;
  valid: Verdict;
  summary: string[];
  source: FinalReadSource;
  replicas: string[];
  /** Rounds of final reads. */
  rounds: number;
  finalRound: number | null;
  /** All replicas read and agreeing on every key in the last round. */
  converged: boolean;
  healAtMs: number | null;
  /** When the first round from which every round agreed completed (ms since the run began). */
  convergedAtMs: number | null;
  /** convergedAtMs minus the heal (replica-read rounds only; null otherwise). */
  timeToConvergeMs: number | null;
  /** Keys judged. */
  keys: number;
  divergentKeyCount: number;
  /** The first 100 divergent keys. */
  divergent: DivergentKey[];
  /** Replicas with no ok read in the last round. */
  missingReplicas: string[];
  /** The first 1000 lost writes (adds for a set). */
  lost: LostWrite[];
  lostCount: number;
  possiblyLostCount: number;
  emptiedKeys: string[];
  unexpected: UnexpectedValue[];
  outOfBounds: CounterOutOfBounds[];
  /** Fallback only: keys with acknowledged writes that no final read covers. */
  unjudgedKeys: string[];
}

const MAX_DIVERGENT = 100;
const MAX_LOST = 1000;
const MAX_SUMMARY_KEYS = 10;

type Input = { events: readonly HistoryEvent[]; ops: readonly ClientOp[] };

export function checkConvergence(input: Input, options: ConvergenceOptions): ConvergenceResult {
  const { type } = options;
  const kind = stateKindOf(type);
  const finals = collectFinalReads(input, kind);
  const rounds = finals.rounds;
  const last = rounds.at(-1);
  const result: ConvergenceResult = {
    checker: 'convergence',
    type,
    valid: 'unknown',
    summary: [],
    source: finals.source,
    replicas: finals.replicas,
    rounds: rounds.length,
    finalRound: last?.round ?? null,
    converged: false,
    healAtMs: finals.healTime === null ? null : nsToMs(finals.healTime),
    convergedAtMs: null,
    timeToConvergeMs: null,
    keys: 0,
    divergentKeyCount: 0,
    divergent: [],
    missingReplicas: last?.missing ?? [],
    lost: [],
    lostCount: 0,
    possiblyLostCount: 0,
    emptiedKeys: [],
    unexpected: [],
    outOfBounds: [],
    unjudgedKeys: [],
  };
  if (last === undefined) {
    result.summary = ['no final reads of the replicas to judge convergence by'];
    return result;
  }

  const writeF = kind === 'kv' ? 'write' : 'add';
  const byKey = opsByKey(
    input.ops,
    (op) => op.f === writeF || op.f === 'delete' || op.f === 'remove',
  );
  const complete = finals.source === 'replica-read';
  const keys: string[] = [...last.byKey.keys()];
  for (const [key, ops] of byKey) {
    if (last.byKey.has(key)) continue;
    if (complete) keys.push(key);
    else if (ops.some((op) => op.f === writeF && op.status === 'ok')) {
      result.unjudgedKeys.push(key);
    }
  }
  result.keys = keys.length;
  const missing = last.missing.length > 0;
  const lostByKey: Array<{ key: string; lost: LostWrite[] }> = [];
  const divergent: DivergentKey[] = [];

  for (const key of keys) {
    const view = viewKey(kind, last, key);
    if (view.divergent) {
      result.divergentKeyCount++;
      if (divergent.length < MAX_DIVERGENT) divergent.push({ key, groups: groupsOf(view) });
    }
    const lostHere = judgeKey(type, key, byKey.get(key) ?? NO_OPS, view, missing, result);
    if (lostHere.length === 0) continue;
    if (missing) result.possiblyLostCount += lostHere.length;
    else {
      result.lostCount += lostHere.length;
      lostByKey.push({ key, lost: lostHere });
    }
  }
  // Evidence in key order (the keys themselves are visited in the order the replicas gave them).
  const byKeyName = (a: { key: string }, b: { key: string }): number =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  lostByKey.sort(byKeyName);
  divergent.sort(byKeyName);
  result.divergent = divergent;
  result.emptiedKeys.sort();
  result.unexpected.sort(byKeyName);
  result.outOfBounds.sort(byKeyName);
  result.unjudgedKeys.sort();
  for (const { lost } of lostByKey) {
    for (const l of lost) if (result.lost.length < MAX_LOST) result.lost.push(l);
  }
  const sentences = lostByKey
    .slice(0, MAX_SUMMARY_KEYS)
    .map(({ key, lost }) => describeLost(type, key, lost));
  const divergenceSentences = divergent
    .slice(0, MAX_SUMMARY_KEYS)
    .map(({ key, groups }) => describeDivergence(key, groups));

  // Time to converge: the first round from which every round agreed.
  let from = rounds.length;
  for (let i = rounds.length - 1; i >= 0; i--) {
    const agrees = i === rounds.length - 1 ? agreesFinal(result) : roundAgrees(kind, rounds[i]!);
    if (!agrees) break;
    from = i;
  }
  result.converged = from < rounds.length;
  if (result.converged) {
    const t = rounds[from]!.time;
    result.convergedAtMs = nsToMs(t);
    if (finals.healTime !== null && complete) {
      result.timeToConvergeMs = nsToMs(Math.max(0, t - finals.healTime));
    }
  }

  const anomaly =
    result.divergentKeyCount > 0 ||
    result.lostCount > 0 ||
    result.emptiedKeys.length > 0 ||
    result.unexpected.length > 0 ||
    result.outOfBounds.length > 0;
  const undecided = missing || result.possiblyLostCount > 0 || result.unjudgedKeys.length > 0;
  result.valid = anomaly ? false : undecided ? 'unknown' : true;
  if (result.valid === true) return result;

  const summary = [...sentences];
  if (lostByKey.length > sentences.length) {
    summary.push(`acknowledged writes lost on ${plural(lostByKey.length, 'key')} in all`);
  }
  summary.push(...divergenceSentences);
  if (result.divergentKeyCount > divergenceSentences.length) {
    summary.push(
      `replicas disagree on ${result.divergentKeyCount - divergenceSentences.length} more keys`,
    );
  }
  if (result.emptiedKeys.length > 0) {
    summary.push(
      `${plural(result.emptiedKeys.length, 'key')} empty on every replica though writes to them were acknowledged: ${listOf(result.emptiedKeys)}`,
    );
  }
  if (result.unexpected.length > 0) {
    summary.push(
      `${plural(result.unexpected.length, 'value')} on the replicas that no client wrote: ${listOf(
        result.unexpected.map((u) => `${stringifyJson(u.value)} on ${keyLabel(u.key)}`),
      )}`,
    );
  }
  for (const o of result.outOfBounds.slice(0, MAX_SUMMARY_KEYS)) {
    summary.push(
      `${keyLabel(o.key)}: replica ${o.replica} holds ${o.value}, outside [${o.lower}, ${o.upper}] (acknowledged ${o.acknowledged})`,
    );
  }
  if (missing) {
    summary.push(`${listOf(last.missing)} could not be read in the last round (${last.round})`);
  }
  if (result.possiblyLostCount > 0) {
    summary.push(
      `${plural(result.possiblyLostCount, 'acknowledged write')} missing from the replicas that were read (possibly lost)`,
    );
  }
  if (result.unjudgedKeys.length > 0) {
    summary.push(
      `no final read of ${plural(result.unjudgedKeys.length, 'key')} with acknowledged writes: ${listOf(result.unjudgedKeys)}`,
    );
  }
  result.summary = summary;
  return result;
}

function agreesFinal(result: ConvergenceResult): boolean {
  return result.missingReplicas.length === 0 && result.divergentKeyCount === 0;
}

function roundAgrees(kind: StateKind, round: FinalRound<StateByKind[StateKind]>): boolean {
  if (round.missing.length > 0) return false;
  for (const key of round.byKey.keys()) if (viewKey(kind, round, key).divergent) return false;
  return true;
}

// --- what the replicas hold for a key ----------------------------------------------------------

/**
 * One key in one round, across its replicas. Cheap when they agree (the usual case): no
 * allocation per replica; the groups and who holds what are worked out only when asked.
 */
interface KeyView {
  kind: StateKind;
  round: AnyRound;
  /** The key's states by read position (see stateAt). */
  states: ReadonlyArray<StateByKind[StateKind] | undefined> | undefined;
  /** The key's owners when the reads name them: only their states are judged. */
  owners: ReadonlySet<string> | undefined;
  divergent: boolean;
  /** Values (kv) or elements (set) on some replica, by id, and the stored timestamp (lww). */
  union: Union;
}

interface Union {
  readonly size: number;
  has(id: ValueId): boolean;
  /** The stored timestamp of a value (lww), when known. */
  get(id: ValueId): number | undefined;
  keys(): Iterable<ValueId>;
}

/** A few kv values: a list beats a map (and one value, the usual case, needs no list). */
class UnionList implements Union {
  private id0: ValueId | undefined;
  private ts0: number | undefined;
  private more: Array<{ id: ValueId; ts: number | undefined }> | undefined;
  get size(): number {
    return this.id0 === undefined ? 0 : 1 + (this.more?.length ?? 0);
  }
  private find(id: ValueId): { id: ValueId; ts: number | undefined } | undefined {
    return this.more?.find((m) => m.id === id);
  }
  has(id: ValueId): boolean {
    return this.id0 === id || (this.more !== undefined && this.find(id) !== undefined);
  }
  get(id: ValueId): number | undefined {
    return this.id0 === id ? this.ts0 : this.find(id)?.ts;
  }
  add(id: ValueId, ts: number | undefined): void {
    if (this.id0 === undefined) {
      this.id0 = id;
      this.ts0 = ts;
    } else if (this.id0 === id) {
      this.ts0 ??= ts;
    } else {
      const m = this.find(id);
      if (m !== undefined) m.ts ??= ts;
      else if (this.more === undefined) this.more = [{ id, ts }];
      else this.more.push({ id, ts });
    }
  }
  keys(): ValueId[] {
    if (this.id0 === undefined) return [];
    return [this.id0, ...(this.more ?? []).map((m) => m.id)];
  }
}

/** The elements of the replicas' sets, as a Union. */
class UnionSet implements Union {
  constructor(readonly ids: ReadonlySet<ValueId>) {}
  get size(): number {
    return this.ids.size;
  }
  has(id: ValueId): boolean {
    return this.ids.has(id);
  }
  get(): undefined {
    return undefined;
  }
  keys(): Iterable<ValueId> {
    return this.ids;
  }
}

const NO_VALUES = new UnionList();
// Shared empty results: most keys lose nothing, and a million keys should not allocate for it.
const NO_LOSS: LostWrite[] = [];
const NO_OPS: readonly ClientOp[] = [];

type AnyRound = FinalRound<StateByKind[StateKind]>;

/** The replicas that say something about the key, with what they hold. */
function present(view: KeyView): Array<{ replica: string; state: StateByKind[StateKind] }> {
  const out: Array<{ replica: string; state: StateByKind[StateKind] }> = [];
  for (let i = 0; i < view.round.reads.length; i++) {
    const state = stateAt(view.round, view.kind, view.states, i, view.owners);
    if (state !== undefined) out.push({ replica: view.round.reads[i]!.replica, state });
  }
  return out;
}

function viewKey(kind: StateKind, round: AnyRound, key: string): KeyView {
  const states = round.byKey.get(key);
  const owners = round.owners.get(key);
  const view: KeyView = { kind, round, states, owners, divergent: false, union: NO_VALUES };
  const n = round.reads.length;
  if (kind === 'counter') {
    let first: number | undefined;
    for (let i = 0; i < n; i++) {
      const s = stateAt(round, kind, states, i, owners) as CounterState | undefined;
      if (s === undefined) continue;
      if (first === undefined) first = s.value;
      else if (s.value !== first) view.divergent = true;
    }
    return view;
  }
  if (kind === 'kv') {
    let rep: KvState | undefined;
    let fp0: ValueId | undefined;
    for (let i = 0; i < n && !view.divergent; i++) {
      const s = stateAt(round, kind, states, i, owners) as KvState | undefined;
      if (s === undefined) continue;
      const fp = kvFingerprint(s);
      if (rep === undefined) {
        rep = s;
        fp0 = fp;
      } else if (fp !== fp0) view.divergent = true;
    }
    const union = new UnionList();
    const from = view.divergent ? present(view).map((p) => p.state as KvState) : rep ? [rep] : [];
    for (const s of from) {
      for (let i = 0; i < s.values.length; i++) union.add(valueId(s.values[i]), s.ts?.[i]);
    }
    view.union = union;
    return view;
  }
  // Sets: replicas usually agree and often list elements in the same order: compare arrays
  // first, build a set only for the first replica and for those that differ in order.
  let firstElements: readonly unknown[] | undefined;
  let firstIds: Set<ValueId> | undefined;
  let union: Set<ValueId> | undefined;
  for (let i = 0; i < n; i++) {
    const s = stateAt(round, kind, states, i, owners) as SetState | undefined;
    if (s === undefined) continue;
    if (firstIds === undefined) {
      firstElements = s.elements;
      firstIds = idSet(s.elements);
      union = firstIds;
      continue;
    }
    if (sameOrder(firstElements!, s.elements)) continue;
    const ids = idSet(s.elements);
    if (sameSet(firstIds, ids)) continue;
    view.divergent = true;
    if (union === firstIds) union = new Set(firstIds);
    for (const id of ids) union!.add(id);
  }
  view.union = new UnionSet(union ?? new Set());
  return view;
}

/** Replicas grouped by equal state (for the evidence of a divergent key). */
function groupsOf(view: KeyView): ReplicaGroup[] {
  const held = present(view);
  if (view.kind === 'counter') {
    return groupBy(held, (h) => (h.state as CounterState).value).map(([value, replicas]) => ({
      replicas,
      state: { value },
    }));
  }
  if (view.kind === 'kv') {
    const firstOf = new Map<ValueId, KvState>();
    return groupBy(held, (h) => {
      const fp = kvFingerprint(h.state as KvState);
      if (!firstOf.has(fp)) firstOf.set(fp, h.state as KvState);
      return fp;
    }).map(([fp, replicas]) => {
      const s = firstOf.get(fp)!;
      const shown: KvState = { values: s.values };
      if (s.ts !== undefined) shown.ts = s.ts;
      return { replicas, state: shown };
    });
  }
  const sets = held.map((h) => idSet((h.state as SetState).elements));
  const reps: number[] = [];
  const members: number[][] = [];
  sets.forEach((s, i) => {
    const g = reps.findIndex((r) => sameSet(sets[r]!, s));
    if (g >= 0) members[g]!.push(i);
    else {
      reps.push(i);
      members.push([i]);
    }
  });
  return members.map((m) => {
    const s = sets[m[0]!]!;
    const missing: unknown[] = [];
    let missingCount = 0;
    for (const id of view.union.keys()) {
      if (s.has(id)) continue;
      missingCount++;
      if (missing.length < 20) missing.push(valueOfId(id));
    }
    return {
      replicas: m.map((i) => held[i]!.replica),
      state: { size: s.size, missing, missingCount },
    };
  });
}

/** The replicas holding a value (kv) or element (set). */
function holdingOf(view: KeyView, id: ValueId): string[] {
  return present(view)
    .filter(({ state }) => {
      const items = view.kind === 'kv' ? (state as KvState).values : (state as SetState).elements;
      return items.some((v) => valueId(v) === id);
    })
    .map((h) => h.replica);
}

function groupBy<T extends { replica: string }>(
  items: readonly T[],
  by: (t: T) => ValueId,
): Array<[ValueId, string[]]> {
  const groups = new Map<ValueId, string[]>();
  for (const item of items) {
    const k = by(item);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [item.replica]);
    else g.push(item.replica);
  }
  return [...groups];
}

/** A kv state's identity: its sorted value ids (one primitive value stands for itself). */
function kvFingerprint(state: KvState): ValueId {
  const v = state.values;
  if (v.length === 1 && (typeof v[0] === 'number' || typeof v[0] === 'string')) return v[0];
  const ids = v.map((x) => String(valueId(x))).sort();
  return `\u0000M${JSON.stringify(ids)}`;
}

function idSet(elements: readonly unknown[]): Set<ValueId> {
  const s = new Set<ValueId>();
  for (const e of elements) s.add(valueId(e));
  return s;
}

function sameOrder(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameSet(a: ReadonlySet<ValueId>, b: ReadonlySet<ValueId>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const x of b) if (!a.has(x)) return false;
  return true;
}

// --- lost writes ---------------------------------------------------------------------------------

/** The greatest and second greatest of a time over ops, to ask "another op at or after t?". */
function topTwo(ops: readonly ClientOp[], time: (op: ClientOp) => number) {
  let best: ClientOp | undefined;
  let second = Number.NEGATIVE_INFINITY;
  for (const op of ops) {
    const t = time(op);
    if (best === undefined || t > time(best)) {
      if (best !== undefined) second = time(best);
      best = op;
    } else if (t > second) second = t;
  }
  /** Whether an op other than `self` has a time ≥ t. */
  return (self: ClientOp, t: number): boolean => {
    if (best === undefined) return false;
    return (best === self ? second : time(best)) >= t;
  };
}

function judgeKey(
  type: ReplicaDataType,
  key: string,
  ops: readonly ClientOp[],
  view: KeyView,
  missing: boolean,
  result: ConvergenceResult,
): LostWrite[] {
  if (type === 'counter') {
    const bounds = counterBounds(ops.filter((op) => op.f === 'add'));
    for (const { replica, state } of present(view)) {
      const value = (state as CounterState).value;
      if (value >= bounds.lower && value <= bounds.upper) continue;
      result.outOfBounds.push({
        key,
        replica,
        value,
        lower: bounds.lower,
        upper: bounds.upper,
        acknowledged: bounds.acknowledged,
      });
    }
    return NO_LOSS;
  }

  const union = view.union;
  const writeF = type === 'set' ? 'add' : 'write';
  // Called once per key (a million times for a big kv): no allocation unless something is off.
  const writes =
    ops.length === 0 || ops.every((op) => op.f === writeF)
      ? ops
      : ops.filter((op) => op.f === writeF);
  let absent: ClientOp[] | undefined;
  for (const op of writes) {
    if (op.status !== 'ok' || union.has(valueId(op.invoke.value))) continue;
    if (absent === undefined) absent = [];
    absent.push(op);
  }
  if (union.size > 0) {
    // Values on the replicas that no client wrote. A few kv values: scan; a set: index.
    let written: Set<ValueId> | undefined;
    if (union.size > 4) written = new Set(writes.map((w) => valueId(w.invoke.value)));
    for (const id of union.keys()) {
      const known = written ? written.has(id) : writes.some((w) => valueId(w.invoke.value) === id);
      if (!known) {
        result.unexpected.push({ key, value: valueOfId(id), replicas: holdingOf(view, id) });
      }
    }
  }
  if (type !== 'set' && union.size === 0 && !missing && result.emptiedKeys.length < MAX_LOST) {
    if (writes.some((w) => w.status === 'ok') && !ops.some((op) => op.f === 'delete')) {
      result.emptiedKeys.push(key);
    }
  }
  if (absent === undefined) return NO_LOSS;
  const finalValues: unknown[] = [];
  for (const id of union.keys()) {
    if (finalValues.length >= 10) break;
    finalValues.push(valueOfId(id));
  }

  if (type === 'set') {
    const removeReturn = new Map<ValueId, number>();
    for (const op of ops) {
      if (op.f !== 'remove' || op.status === 'fail') continue;
      const id = valueId(op.invoke.value);
      removeReturn.set(id, Math.max(removeReturn.get(id) ?? Number.NEGATIVE_INFINITY, op.return));
    }
    return absent
      .filter(
        (w) => (removeReturn.get(valueId(w.invoke.value)) ?? Number.NEGATIVE_INFINITY) < w.call,
      )
      .map((w) => lostWrite(key, w, null, finalValues));
  }

  const others = ops.filter(
    (op) => (op.f === 'write' || op.f === 'delete') && op.status !== 'fail',
  );

  if (type === 'siblings') {
    const laterInvoked = topTwo(others, (op) => op.call);
    return absent
      .filter((w) => !laterInvoked(w, w.call))
      .map((w) => lostWrite(key, w, null, finalValues));
  }

  // lww: the known winners: for each value on a replica, the non-failed write of it that
  // completed last (the most permissive choice when a value was written more than once).
  const winners: Array<{ op: ClientOp; value: unknown; ts?: number }> = [];
  for (const id of union.keys()) {
    let best: ClientOp | undefined;
    for (const w of writes) {
      if (w.status === 'fail' || valueId(w.invoke.value) !== id) continue;
      if (best === undefined || w.return > best.return) best = w;
    }
    if (best === undefined) continue;
    const winner: { op: ClientOp; value: unknown; ts?: number } = {
      op: best,
      value: best.invoke.value,
    };
    const ts = union.get(id);
    if (ts !== undefined) winner.ts = ts;
    winners.push(winner);
  }
  const laterCompleted = topTwo(others, (op) => op.return);
  const lost: LostWrite[] = [];
  for (const w of absent) {
    if (winners.length > 0) {
      if (winners.some((f) => f.op !== w && f.op.return >= w.call)) continue;
      const latest = winners.reduce((a, b) => (b.op.return > a.op.return ? b : a));
      lost.push(lostWrite(key, w, latest, finalValues));
    } else if (!laterCompleted(w, w.call)) {
      lost.push(lostWrite(key, w, null, finalValues));
    }
  }
  return lost;
}

function completionTs(op: ClientOp): number | undefined {
  const ts = (op.completion as Record<string, unknown> | undefined)?.ts;
  return typeof ts === 'number' ? ts : undefined;
}

function lostWrite(
  key: string,
  w: ClientOp,
  winner: { op: ClientOp; value: unknown; ts?: number } | null,
  finalValues: unknown[],
): LostWrite {
  const lost: LostWrite = {
    key,
    value: w.invoke.value,
    index: w.invoke.index,
    process: w.process,
    invokedAtMs: nsToMs(w.call),
    completedAtMs: nsToMs(w.return),
    winner: null,
    winnerOlderInRealTime: false,
    timestampsInverted: null,
    finalValues,
  };
  const ts = completionTs(w);
  if (ts !== undefined) lost.ts = ts;
  if (winner !== null) {
    const wr = winner.op.return;
    const info: LostWinner = {
      value: winner.value,
      index: winner.op.invoke.index,
      process: winner.op.process,
      status: winner.op.status,
      completedAtMs: Number.isFinite(wr) ? nsToMs(wr) : null,
    };
    const winnerTs = winner.ts ?? completionTs(winner.op);
    if (winnerTs !== undefined) info.ts = winnerTs;
    lost.winner = info;
    lost.winnerOlderInRealTime = wr < w.call;
    if (winnerTs !== undefined && ts !== undefined) lost.timestampsInverted = winnerTs > ts;
  }
  return lost;
}

// --- sentences -----------------------------------------------------------------------------------

function describeState(state: unknown): string {
  const s = state as { values?: unknown[]; value?: number; size?: number; missingCount?: number };
  if (s.values !== undefined)
    return s.values.length === 0 ? 'nothing' : (stringifyJson(s.values) ?? 'nothing');
  if (s.size !== undefined) {
    const miss = s.missingCount ? `, missing ${s.missingCount}` : '';
    return `${plural(s.size, 'element')}${miss}`;
  }
  return String(s.value);
}

function describeDivergence(key: string, groups: readonly ReplicaGroup[]): string {
  const names = groups.flatMap((g) => g.replicas);
  const parts = groups.map(
    (g) =>
      `${listOf(g.replicas)} ${g.replicas.length === 1 ? 'holds' : 'hold'} ${describeState(g.state)}`,
  );
  return `replicas ${listOf(names)} disagree on ${keyLabel(key)}: ${parts.join('; ')}`;
}

function describeLost(type: ReplicaDataType, key: string, lost: readonly LostWrite[]): string {
  const noun = type === 'set' ? 'acknowledged add' : 'acknowledged write';
  let s = `${plural(lost.length, noun)} lost on ${keyLabel(key)}: ${listValues(lost.map((l) => l.value))}`;
  // Prefer an example whose timestamps show the skew.
  const example =
    lost.find((l) => l.winnerOlderInRealTime && l.timestampsInverted === true) ??
    lost.find((l) => l.winnerOlderInRealTime);
  if (type === 'lww' && example !== undefined) {
    const w = example.winner!;
    const gap =
      w.completedAtMs === null ? '' : ` ${fmtMs(example.invokedAtMs - w.completedAtMs)} earlier`;
    const stamps =
      w.ts !== undefined && example.ts !== undefined
        ? ` (timestamps: lost ${example.ts}, winner ${w.ts})`
        : '';
    const why =
      example.timestampsInverted === false
        ? 'a timestamp tie or a coarse clock decided against the later write'
        : 'the clock-skew signature';
    s +=
      `; ${stringifyJson(example.value)} lost to ${stringifyJson(w.value)}, written${gap} in ` +
      `real time${stamps}: ${why}`;
  }
  return s;
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
