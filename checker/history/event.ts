import { z } from 'zod';

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
export const OP_TYPES = ['invoke', 'ok', 'fail', 'info'] as const;
export type OpType = (typeof OP_TYPES)[number];

export const NEMESIS = 'nemesis';
/** The process of the harness's observations of the cluster (leader changes). */
export const OBSERVER = 'observer';
/** Processes that are not clients: their events are not operations. */
export const NON_CLIENT_PROCESSES: ReadonlySet<string> = new Set([NEMESIS, OBSERVER]);

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

/** True for events recorded by the nemesis rather than a client. */
export function isNemesisEvent(e: Pick<HistoryEvent, 'process'>): boolean {
  return e.process === NEMESIS;
}

/** True for events the harness recorded of what it observed of the cluster (leader changes). */
export function isObserverEvent(e: Pick<HistoryEvent, 'process'>): boolean {
  return e.process === OBSERVER;
}

/** True for events of a client process (not the nemesis, not an observer). */
export function isClientEvent(e: Pick<HistoryEvent, 'process'>): boolean {
  return typeof e.process === 'number' || !NON_CLIENT_PROCESSES.has(e.process);
}
