import { z } from 'zod';
import { OP_TYPES } from './event-kinds.js';

/**
 * One line of `history.jsonl` (see DESIGN.md, "History format").
 *
 * - `invoke`: a process starts an operation.
 * - `ok`: it happened. `fail`: it certainly did not happen.
 * - `info`: outcome unknown: it may take effect at any moment after its invoke, or never.
 *   After `info` the process id is retired.
 *
 * Nemesis events use `process: "nemesis"` and `type: "info"`. Observer events (what the harness
 * read from the cluster while the run went on, e.g. `f: "leader"`, the node that led) use
 * `process: "observer"` and `type: "info"`. Neither is a client: they are never paired into
 * operations, and may log any sequence of events.
 */
export {
  isClientEvent,
  isNemesisEvent,
  isObserverEvent,
  NEMESIS,
  NON_CLIENT_PROCESSES,
  OBSERVER,
  OP_TYPES,
  type OpType,
} from './event-kinds.js';

export const processSchema = z.union([z.number().int().nonnegative(), z.string().min(1)]);
export type ProcessId = z.infer<typeof processSchema>;

/** Integer keys beyond 2^53 are read as bigints (see ./json.ts), so that they stay exact. */
export const keySchema = z.union([z.string(), z.number(), z.bigint()]);
export type Key = z.infer<typeof keySchema>;

export const historyEventSchema = z
  .object({
    /** Position in the history, 0-based and dense. */
    index: z.number().int().nonnegative(),
    /** Nanoseconds since the run started, from a monotonic clock; never decreases. */
    time: z.number().nonnegative(),
    process: processSchema,
    type: z.enum(OP_TYPES),
    /** The operation's function: read, write, cas, add, partition-start, ... */
    f: z.string().min(1),
    /** Present for keyed operations (kv, sets per key, ...). */
    key: keySchema.optional(),
    /** The operation's argument on invoke; the value read on a read's completion. */
    value: z.unknown().optional(),
    /** The node that served the operation, when known. */
    node: z.string().optional(),
    /** Why an operation failed or is indeterminate. */
    error: z.unknown().optional(),
  })
  // Extra fields (timestamps a system reports, nemesis details) are kept as they are.
  .loose();

export type HistoryEvent = z.infer<typeof historyEventSchema>;
