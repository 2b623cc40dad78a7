/** The shapes every part of the transactional checker shares. */
import type { Key, ProcessId } from '../history/index.js';

export const WORKLOADS = ['list-append', 'rw-register'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** A value appended or written: unique per key across a history. */
export type Scalar = string | number | bigint;

/** One micro-op as read from a history; `null` reads are unobserved (invocations, info ops). */
export type MicroOp =
  | { f: 'append'; key: Key; value: Scalar }
  | { f: 'w'; key: Key; value: Scalar }
  | { f: 'r'; key: Key; value: Scalar | readonly Scalar[] | null };

export type TxnStatus = 'ok' | 'info' | 'fail';

/** A transaction of the history: its completion paired with its invocation, when there is one. */
export interface Txn {
  /** Position among the history's transactions (dense, 0-based): the graph's node id. */
  id: number;
  process: ProcessId;
  status: TxnStatus;
  ops: MicroOp[];
  /** History index of the invocation; undefined in completion-only histories. */
  invokeIndex?: number;
  /** History index of the completion; undefined for an op still open at the end. */
  completeIndex?: number;
}

/** Dependency kinds, as bits so one edge can carry several. */
export const WW = 1;
export const WR = 2;
export const RW = 4;
export const PROCESS = 8;
export const REALTIME = 16;
export const DATA = WW | WR | RW;

export const EDGE_NAMES: Readonly<Record<number, string>> = {
  [WW]: 'ww',
  [WR]: 'wr',
  [RW]: 'rw',
  [PROCESS]: 'process',
  [REALTIME]: 'realtime',
};
