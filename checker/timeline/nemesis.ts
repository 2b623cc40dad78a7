import type { HistoryEvent } from '../history/event.js';
import { isNemesisEvent } from '../history/event.js';

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

type Edge = { kind: string; edge: 'open' | 'close' | 'instant' };

/**
 * How a nemesis `f` opens or closes a fault. Faults come as pairs: `X-start`/`X-stop`,
 * `start-X`/`stop-X`, `kill`/`start`, `pause`/`resume`, `partition`/`heal`,
 * `clock-offset`/`clock-reset`.
 */
function classify(f: string, open: ReadonlyMap<string, NemesisInterval>): Edge {
  const suffix = /^(.+)-(start|stop|begin|end)$/.exec(f);
  if (suffix) {
    const kind = suffix[1]!;
    return { kind, edge: suffix[2] === 'start' || suffix[2] === 'begin' ? 'open' : 'close' };
  }
  const prefix = /^(start|stop)-(.+)$/.exec(f);
  if (prefix) return { kind: prefix[2]!, edge: prefix[1] === 'start' ? 'open' : 'close' };
  switch (f) {
    case 'kill':
    case 'crash':
      return { kind: 'kill', edge: 'open' };
    case 'pause':
    case 'freeze':
      return { kind: 'pause', edge: 'open' };
    case 'resume':
    case 'unfreeze':
      return { kind: 'pause', edge: 'close' };
    case 'partition':
      return { kind: 'partition', edge: 'open' };
    case 'clock-offset':
      return { kind: 'clock', edge: 'open' };
    case 'clock-reset':
      return { kind: 'clock', edge: 'close' };
    case 'heal':
      return { kind: 'partition', edge: 'close' };
    case 'start':
      // After a kill, `start` restarts the node; otherwise (Jepsen's partitioner) it opens a fault.
      return open.has('kill') ? { kind: 'kill', edge: 'close' } : { kind: 'fault', edge: 'open' };
    case 'stop':
      return { kind: 'fault', edge: 'close' };
    default:
      return { kind: f, edge: 'instant' };
  }
}

/**
 * Pairs nemesis events into shaded intervals. When the nemesis recorded both an invoke and a
 * completion for each fault (Jepsen style), the completions mark when the fault took effect.
 */
export function nemesisIntervals(events: readonly HistoryEvent[]): NemesisInterval[] {
  const nemesis = events.filter((e) => isNemesisEvent(e));
  const completions = nemesis.filter((e) => e.type !== 'invoke');
  const used = completions.length > 0 ? completions : nemesis;
  const open = new Map<string, NemesisInterval>();
  const out: NemesisInterval[] = [];
  for (const e of used) {
    const { kind, edge } = classify(e.f, open);
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
