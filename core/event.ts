import type { Key, OpType, ProcessId } from '../checker/history/event.js';

/** An event as the runner hands it over: the recorder adds `index` and `time`. */
export interface EventInput {
  /**
   * Set by the recorder (any value given is replaced). An object built with `index` and `time`
   * first keeps its shape when the recorder sets them, which is cheaper than adding them.
   */
  index?: number;
  time?: number;
  process: ProcessId;
  type: OpType;
  f: string;
  key?: Key;
  value?: unknown;
  node?: string;
  error?: unknown;
  /** Extra fields (nemesis details, system timestamps), written as they are. */
  [extra: string]: unknown;
}
