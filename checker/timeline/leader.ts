import type { HistoryEvent } from '../history/event.js';
import { isObserverEvent } from '../history/event.js';

/** The `f` of the observer's leader events (harness/run/observe-leader.ts records them). */
export const LEADER_F = 'leader';

/** Who led, as the cluster said, from `start` until `end` (ns; the next change or the history's end). */
export interface LeaderSpan {
  /** The leading node; null: the cluster said no node led. */
  node: string | null;
  start: number;
  end: number;
}

/** The leader events of a history (`process: "observer"`, `f: "leader"`), in order. */
export function leaderEvents(events: readonly HistoryEvent[]): HistoryEvent[] {
  return events.filter((e) => isObserverEvent(e) && e.f === LEADER_F);
}

/**
 * Spans of leadership from the leader events: each from one event to the next; the last until
 * the history's last event. Empty when the history has no leader events.
 */
export function leaderSpans(events: readonly HistoryEvent[]): LeaderSpan[] {
  const changes = leaderEvents(events);
  const endOfHistory = events.at(-1)?.time ?? 0;
  return changes.map((e, i) => ({
    node: typeof e.value === 'string' ? e.value : null,
    start: e.time,
    end: Math.max(changes[i + 1]?.time ?? endOfHistory, e.time),
  }));
}
