/**
 * A worker thread of the parallel check: it rebuilds the model from its ModelSource, then
 * claims partitions from the counter it shares with the other threads until none is left (or
 * the check is cancelled), posting each result back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PartitionBudget } from './check.js';
import { checkPartition } from './check.js';
import { completeModel } from './model.js';
import type { WorkerData, WorkerResponse } from './parallel.js';
import { loadModel } from './parallel.js';
import { fromWire, resultToWire } from './wire.js';

const data = workerData as WorkerData;
const cancel = new Int32Array(data.shared, 0, 1);
const claim = new Int32Array(data.shared, 4, 1);
const port = parentPort!;
const post = (msg: WorkerResponse): void => port.postMessage(msg);
const model = completeModel(await loadModel(data.source));
const budget: PartitionBudget = {
  deadline: data.deadline ?? Number.POSITIVE_INFINITY,
  maxCacheEntries: data.maxCacheEntries,
  verbose: data.verbose,
  stop: () => (Atomics.load(cancel, 0) !== 0 ? 'cancelled' : undefined),
};
while (Atomics.load(cancel, 0) === 0) {
  const k = Atomics.add(claim, 0, 1);
  if (k >= data.partitions.length) break;
  const part = data.partitions[k]!;
  post({ started: part.index });
  try {
    const result = checkPartition(model, { key: part.key, ops: part.ops.map(fromWire) }, budget);
    // Stop the other threads at once, without waiting for the calling thread to hear of it.
    if (result.valid === false && !data.decideAll) Atomics.store(cancel, 0, 1);
    post({ index: part.index, result: resultToWire(result) });
  } catch (e) {
    post({ index: part.index, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    break;
  }
}
post({ done: true });
