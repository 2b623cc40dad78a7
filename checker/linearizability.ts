/**
 * The history-level linearizability checker: client operations → the model's operations →
 * the porcupine search (on worker threads when that pays).
 *
 * `fail` operations certainly did not happen and are dropped; `info` and `pending` ones are
 * indeterminate: they may take effect at any moment after their invoke, or never (return at
 * +Infinity, output UNKNOWN); the search handles them natively.
 *
 * Each process is one client of the search: a process's operations stay in their order even
 * when one completes at the very time the next is invoked. A history with no ok operation
 * (empty, or only fail and indeterminate ones) is "unknown": there is nothing to judge.
 */
import type { ClientOp } from './history/client-op.js';
import { getHistoryModel } from './models/index.js';
import { checkOperationsParallel } from './porcupine/parallel.js';
import type { Operation, PartitionInfo, UnknownReason, Verdict } from './porcupine/types.js';

export interface LinearizabilityOptions {
  /** A name from HISTORY_MODEL_NAMES. */
  model: string;
  /** Initial value (register, cas-register, kv); default nil. */
  initial?: unknown;
  timeoutMs?: number;
  maxCacheEntries?: number;
  /** Collect evidence: longest linearizable prefixes and operations that could not be placed. */
  verbose?: boolean;
  /** Decide every partition instead of stopping at the first illegal one. */
  decideAll?: boolean;
  /** Split by the model's partition key (default true). */
  partition?: boolean;
  /** Worker threads: a number, or 'auto' (default: when there are enough operations). */
  workers?: number | 'auto';
  signal?: AbortSignal;
}

export interface LinearizabilityPartition {
  key: string;
  /** Keys searched together because a process's order ties them (the first is `key`). */
  keys?: string[];
  valid: Verdict;
  reason?: UnknownReason;
  operations: number;
  elapsedMs: number;
  /**
   * Verbose evidence. `info.operations[i].id` is the index of that operation in the `ops`
   * array given to checkLinearizability.
   */
  info?: PartitionInfo<unknown, unknown>;
}

export interface LinearizabilityResult {
  valid: Verdict;
  /** Why the verdict is "unknown" when no partition says (nothing completed to check). */
  reason?: string;
  model: string;
  /** Operations checked (fail ones dropped). */
  operations: number;
  partitions: LinearizabilityPartition[];
  elapsedMs: number;
}

/**
 * The model's operations for a history's client operations; each carries its index in `ops`
 * as `id`. Throws (naming the operation) when an operation does not fit the model.
 */
export function toModelOperations(
  ops: readonly ClientOp[],
  toOperation: (op: ClientOp) => { input: unknown; output: unknown },
): Operation<unknown, unknown>[] {
  const clients = new Map<ClientOp['process'], number>();
  const out: Operation<unknown, unknown>[] = [];
  for (let id = 0; id < ops.length; id++) {
    const op = ops[id]!;
    if (op.status === 'fail') continue;
    let clientId = clients.get(op.process);
    if (clientId === undefined) {
      clientId = clients.size;
      clients.set(op.process, clientId);
    }
    const { input, output } = toOperation(op);
    const indeterminate = op.status === 'info' || op.status === 'pending';
    out.push({
      clientId,
      input,
      output,
      call: op.call,
      return: indeterminate ? Number.POSITIVE_INFINITY : op.return,
      id,
    });
  }
  return out;
}

export async function checkLinearizability(
  ops: readonly ClientOp[],
  options: LinearizabilityOptions,
): Promise<LinearizabilityResult> {
  const start = Date.now();
  const hm = getHistoryModel(
    options.model,
    options.initial === undefined ? {} : { initial: options.initial },
  );
  const operations = toModelOperations(ops, (op) => hm.toOperation(op));
  const result = await checkOperationsParallel(
    hm.source,
    operations,
    {
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxCacheEntries !== undefined
        ? { maxCacheEntries: options.maxCacheEntries }
        : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      verbose: options.verbose === true,
      decideAll: options.decideAll === true,
      partition: options.partition !== false,
      workers: options.workers ?? 'auto',
    },
    hm.model,
  );
  return {
    valid: result.valid,
    ...(result.reason !== undefined ? { reason: result.reason } : {}),
    model: hm.name,
    operations: operations.length,
    partitions: result.partitions,
    elapsedMs: Date.now() - start,
  };
}
