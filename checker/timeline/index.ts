export type { FaultEdge, FaultEvent, FaultStyle } from './fault-events.js';
export { classifyFaultEvent, closingEventFor, HEAL_ALL_KIND } from './fault-events.js';
export type { LeaderSpan } from './leader.js';
export { LEADER_F, leaderEvents, leaderSpans } from './leader.js';
export type { NemesisInterval } from './nemesis.js';
export { nemesisIntervals } from './nemesis.js';
export { renderTimeline } from './render.js';
export type {
  TimelineCheck,
  TimelineInput,
  TimelineOptions,
  TimelinePartition,
} from './types.js';
export { describeClientOp } from './view.js';
