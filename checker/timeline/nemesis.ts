import type { HistoryEvent } from '../history/event.js';
import { isNemesisEvent } from '../history/event.js';
import { classifyFaultEvent, type FaultStyle } from './fault-events.js';

/** A fault as the timeline shades it: from `start` to `end` (Infinity: never healed). */
export interface NemesisInterval {
  kind: string;
  /** The `f` that opened it, e.g. `partition-start`, `kill`. */
  label: string;
  start: number;
  end: number;
  /** The opening event's value (e.g. the partition grudge), for the tooltip. */
  value?: unknown;
  /** False for a one-off event (no matching open/close), drawn as a thin mark. */
  interval: boolean;
}

/**
 * Pairs nemesis events into shaded intervals. When the nemesis recorded both an invoke and a
 * completion for each fault (Jepsen style), the completions mark when the fault took effect.
 * `styles`: the nemesis's own fault kinds (see fault-events.ts).
 */
export function nemesisIntervals(
  events: readonly HistoryEvent[],
  styles: readonly FaultStyle[] = [],
): NemesisInterval[] {
  const nemesis = events.filter((e) => isNemesisEvent(e));
  const completions = nemesis.filter((e) => e.type !== 'invoke');
  const used = completions.length > 0 ? completions : nemesis;
  const open = new Map<string, NemesisInterval>();
  const out: NemesisInterval[] = [];
  for (const e of used) {
    const { kind, edge } = classifyFaultEvent(e.f, (k) => open.has(k), styles);
    if (edge === 'open') {
      if (open.has(kind)) continue; // already in effect: a repeated start changes nothing we draw
      const iv: NemesisInterval = {
        kind,
        label: e.f,
        start: e.time,
        end: Number.POSITIVE_INFINITY,
        interval: true,
        ...(e.value !== undefined ? { value: e.value } : {}),
      };
      open.set(kind, iv);
      out.push(iv);
    } else if (edge === 'close' && open.has(kind)) {
      open.get(kind)!.end = e.time;
      open.delete(kind);
    } else {
      out.push({
        kind,
        label: e.f,
        start: e.time,
        end: e.time,
        interval: false,
        ...(e.value !== undefined ? { value: e.value } : {}),
      });
    }
  }
  return out;
}
