/**
 * Failover times: for each fault of a history, how long until the cluster served `ok` client
 * operations again, after the fault began and after it healed. A pure function of the events
 * and the paired client ops.
 *
 * Definitions (times on the history's clock):
 *
 * - The faults are the nemesis intervals (`nemesisIntervals` with the run's fault styles), not
 *   one-off marks and not the runner's final heal (`heal-all`). Overlapping faults are each
 *   measured on their own.
 * - Only main-phase client ops count: ops invoked before the runner's `heal-all-start` (the
 *   final phase's reads would flatter recovery), and never replica reads.
 * - **Recovery after start**: from the fault's start event to the first `ok` completion of an op
 *   invoked at or after the start. None (`null`) when no such op completed before the fault
 *   ended (`afterStart: 'healed-first'`), or, for a fault never healed, before the main phase
 *   ended (`'run-ended'`).
 * - **Recovery after heal**: from the fault's end event to the first `ok` completion of an op
 *   invoked at or after the end. None when no such op completed in the main phase
 *   (`afterHeal: 'run-ended'`, e.g. a fault closed by the final heal), or when the fault was
 *   never healed (`'never-healed'`).
 */
import type { ClientOp } from './history/client-op.js';
import type { HistoryEvent } from './history/event.js';
import { isNemesisEvent } from './history/event.js';
import type { FaultStyle } from './timeline/fault-events.js';
import { HEAL_ALL_KIND } from './timeline/fault-events.js';
import { nemesisIntervals } from './timeline/nemesis.js';

/** Why a recovery time is missing. */
export type NoRecovery = 'healed-first' | 'run-ended' | 'never-healed';

export interface FaultFailover {
  /** The fault's kind (its lane), e.g. `kill`, `partition`. */
  kind: string;
  /** The event that opened it, e.g. `kill-start`. */
  label: string;
  /** The nodes it hit, when its start event names them. */
  nodes?: string[];
  /** Start and end, seconds on the history's clock; end null: never healed. */
  start: number;
  end: number | null;
  /** Milliseconds from the start to the first ok completion of an op invoked after it; null: none. */
  recoveredAfterStartMs: number | null;
  /** Milliseconds from the end to the first ok completion of an op invoked after it; null: none. */
  recoveredAfterHealMs: number | null;
  /** Why a time is null. */
  noRecovery?: { afterStart?: NoRecovery; afterHeal?: NoRecovery };
}

function nodesOf(value: unknown): string[] | undefined {
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    return value as string[];
  }
  if (typeof value === 'object' && value !== null) {
    const nodes = (value as { nodes?: unknown }).nodes;
    if (nodes !== undefined) return nodesOf(nodes);
  }
  return undefined;
}

const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;

/** Failover times of every fault in the history, in the order the faults started. */
export function failoverTimes(
  events: readonly HistoryEvent[],
  ops: readonly ClientOp[],
  styles: readonly FaultStyle[] = [],
): FaultFailover[] {
  const heal = events.find((e) => isNemesisEvent(e) && e.f === 'heal-all-start');
  const mainEnd = heal?.time ?? Number.POSITIVE_INFINITY;
  // Main-phase ok ops by invoke time; firstOk[i]: the earliest completion among ok[i..].
  const ok = ops
    .filter((op) => op.status === 'ok' && op.call < mainEnd && op.f !== 'replica-read')
    .sort((a, b) => a.call - b.call);
  const firstOk = new Array<number>(ok.length + 1).fill(Number.POSITIVE_INFINITY);
  for (let i = ok.length - 1; i >= 0; i--) firstOk[i] = Math.min(ok[i]!.return, firstOk[i + 1]!);
  /** The first ok completion of an op invoked at or after t (Infinity: none). */
  const firstOkFrom = (t: number): number => {
    let lo = 0;
    let hi = ok.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ok[mid]!.call < t) lo = mid + 1;
      else hi = mid;
    }
    return firstOk[lo]!;
  };

  const out: FaultFailover[] = [];
  for (const iv of nemesisIntervals(events, styles)) {
    if (!iv.interval || iv.kind === HEAL_ALL_KIND) continue;
    const healed = Number.isFinite(iv.end);
    const f: FaultFailover = {
      kind: iv.kind,
      label: iv.label,
      start: iv.start / 1e9,
      end: healed ? iv.end / 1e9 : null,
      recoveredAfterStartMs: null,
      recoveredAfterHealMs: null,
    };
    const nodes = nodesOf(iv.value);
    if (nodes !== undefined) f.nodes = nodes;
    const noRecovery: NonNullable<FaultFailover['noRecovery']> = {};
    const afterStart = firstOkFrom(iv.start);
    if (afterStart <= iv.end && Number.isFinite(afterStart)) {
      f.recoveredAfterStartMs = ms(afterStart - iv.start);
    } else {
      noRecovery.afterStart = healed ? 'healed-first' : 'run-ended';
    }
    if (!healed) {
      noRecovery.afterHeal = 'never-healed';
    } else {
      const afterHeal = firstOkFrom(iv.end);
      if (Number.isFinite(afterHeal)) f.recoveredAfterHealMs = ms(afterHeal - iv.end);
      else noRecovery.afterHeal = 'run-ended';
    }
    if (noRecovery.afterStart !== undefined || noRecovery.afterHeal !== undefined) {
      f.noRecovery = noRecovery;
    }
    out.push(f);
  }
  return out;
}
