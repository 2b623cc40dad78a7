/**
 * Pairing: each client invoke with its completion, as `ClientOp`s (./client-op.ts), in the
 * order of their invokes. Nemesis and observer events are set aside. Expects a well-formed history
 * (./well-formed.ts); pairing a malformed one throws.
 */
import type { ClientOp } from './client-op.js';
import type { HistoryEvent, ProcessId } from './event.js';
import { isClientEvent, isNemesisEvent } from './event-kinds.js';

export interface SplitHistory {
  /** Client operations, in invoke order. */
  ops: ClientOp[];
  /** Nemesis events, in history order. */
  nemesis: HistoryEvent[];
  /** Observer events (leader changes), in history order. */
  observer: HistoryEvent[];
}

export function splitHistory(events: readonly HistoryEvent[]): SplitHistory {
  const ops: ClientOp[] = [];
  const nemesis: HistoryEvent[] = [];
  const observer: HistoryEvent[] = [];
  const open = new Map<ProcessId, ClientOp>();
  for (const e of events) {
    if (!isClientEvent(e)) {
      (isNemesisEvent(e) ? nemesis : observer).push(e);
      continue;
    }
    if (e.type === 'invoke') {
      if (open.has(e.process)) {
        throw new Error(`pairOperations: event ${e.index}: process ${e.process} is busy`);
      }
      const op: ClientOp = {
        process: e.process,
        f: e.f,
        status: 'pending',
        invoke: e,
        call: e.time,
        return: Number.POSITIVE_INFINITY,
      };
      if (e.key !== undefined) op.key = e.key;
      ops.push(op);
      open.set(e.process, op);
      continue;
    }
    const op = open.get(e.process);
    if (op === undefined) {
      throw new Error(`pairOperations: event ${e.index}: ${e.type} without an invoke`);
    }
    open.delete(e.process);
    op.status = e.type;
    op.completion = e;
    if (op.key === undefined && e.key !== undefined) op.key = e.key;
    if (e.type !== 'info') op.return = e.time;
  }
  return { ops, nemesis, observer };
}

/** The client operations of a well-formed history, in invoke order. */
export function pairOperations(events: readonly HistoryEvent[]): ClientOp[] {
  return splitHistory(events).ops;
}
