import type { HistoryEvent, Key, ProcessId } from './event.js';

/**
 * A client operation: an invoke paired with its completion (if any). Built from a well-formed
 * history by `pairOperations` (./pair.ts). Nemesis events are not client operations.
 *
 * - `ok`: happened, with the completion's value.
 * - `fail`: certainly did not happen.
 * - `info`: completed with an unknown outcome.
 * - `pending`: invoked, never completed (the run ended or crashed): also an unknown outcome.
 */
export type ClientOpStatus = 'ok' | 'fail' | 'info' | 'pending';

export interface ClientOp {
  process: ProcessId;
  f: string;
  key?: Key;
  status: ClientOpStatus;
  invoke: HistoryEvent;
  completion?: HistoryEvent;
  /** Invoke time (ns). */
  call: number;
  /** Completion time (ns) for ok and fail; Infinity for info and pending. */
  return: number;
}
