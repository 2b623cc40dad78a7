/** Small txn histories for tests, written the way Elle's examples are. */
import type { HistoryEvent } from '../../history/event.js';
import { type TxnHistory, txnsOf } from '../txns.js';
import type { Workload } from '../types.js';

export type RawMicroOp = readonly [string, string | number, unknown];

export interface RawTxn {
  process: number;
  type: 'ok' | 'fail' | 'info';
  ops: readonly RawMicroOp[];
}

export const ok = (process: number, ...ops: RawMicroOp[]): RawTxn => ({ process, type: 'ok', ops });
export const fail = (process: number, ...ops: RawMicroOp[]): RawTxn => ({
  process,
  type: 'fail',
  ops,
});
export const info = (process: number, ...ops: RawMicroOp[]): RawTxn => ({
  process,
  type: 'info',
  ops,
});

function event(index: number, process: number, type: HistoryEvent['type'], value: unknown) {
  return { index, time: index, process, type, f: 'txn', value } satisfies HistoryEvent;
}

/** The invocation's value: reads not yet known. */
function invocationOf(ops: readonly RawMicroOp[]): RawMicroOp[] {
  return ops.map((m) => (m[0] === 'r' ? [m[0], m[1], null] : m));
}

/** Completions only, in the order given. */
export function completions(txns: readonly RawTxn[]): HistoryEvent[] {
  return txns.map((t, i) => event(i, t.process, t.type, t.ops));
}

/** Each txn invoked and completed before the next is invoked (a serial history). */
export function sequential(txns: readonly RawTxn[]): HistoryEvent[] {
  return txns.flatMap((t, i) => [
    event(2 * i, t.process, 'invoke', invocationOf(t.ops)),
    event(2 * i + 1, t.process, t.type, t.ops),
  ]);
}

/** All txns invoked first, then completed in the order given: no realtime order among them. */
export function concurrent(txns: readonly RawTxn[]): HistoryEvent[] {
  const n = txns.length;
  return [
    ...txns.map((t, i) => event(i, t.process, 'invoke', invocationOf(t.ops))),
    ...txns.map((t, i) => event(n + i, t.process, t.type, t.ops)),
  ];
}

export function txnHistory(events: readonly HistoryEvent[], workload: Workload): TxnHistory {
  return txnsOf(events, workload);
}
