import type { ClientOp } from '../history/client-op.js';
import type { HistoryEvent } from '../history/event.js';
import type { PartitionInfo, Verdict } from '../porcupine/types.js';
import type { FaultStyle } from './fault-events.js';

/** What the timeline needs of one partition of a linearizability result (verbose for evidence). */
export interface TimelinePartition {
  key: string;
  /** Every key searched in this partition (keys a process's order ties), when more than one. */
  keys?: readonly string[];
  valid: Verdict;
  reason?: string;
  operations: number;
  /** Verbose evidence; `info.operations[i].id` is the index of that op in `TimelineInput.ops`. */
  info?: PartitionInfo<unknown, unknown>;
}

/** What the timeline needs of a linearizability result (`checkLinearizability`'s answer fits). */
export interface TimelineCheck {
  valid: Verdict;
  model?: string;
  partitions: readonly TimelinePartition[];
}

export interface TimelineInput {
  /** Page heading, e.g. the history file's name. */
  title?: string;
  /** The client operations that were checked, in the order given to the checker. */
  ops: readonly ClientOp[];
  result: TimelineCheck;
  /**
   * The whole history; only its nemesis events (drawn as shaded intervals) and its leader events
   * (`process: "observer"`, `f: "leader"`: a band of who led) are used.
   */
  events?: readonly HistoryEvent[];
  /**
   * `ns`: times are nanoseconds (faultline's own histories). `order`: times only order the
   * events (imported histories without clocks), so the axis counts events, not seconds.
   */
  timeUnit?: 'ns' | 'order';
}

export interface TimelineOptions {
  /** Most ops drawn per partition (a window around the point where the search got stuck). */
  maxOps?: number;
  /** Most failing partitions drawn; the others are listed by key. */
  maxPartitions?: number;
  /**
   * The nemesis's fault kinds: their event names and colours. Without them the known names are
   * still paired, and each fault lane takes a colour by position.
   */
  faultStyles?: readonly FaultStyle[] | undefined;
  /** Most ops embedded in the whole-run view (default 1,000,000); past it ok ops are thinned. */
  maxEmbeddedOps?: number;
}
