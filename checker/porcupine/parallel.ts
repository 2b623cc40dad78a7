/**
 * Checking partitions in parallel on worker threads. Models are code, so each worker imports
 * the model from its ModelSource. Partitions are handed out largest first, one at a time; the
 * first illegal partition cancels the others (through a shared flag the searches poll) unless
 * every partition is to be decided.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Partition, PartitionBudget } from './check.js';
import {
  checkPartition,
  checkPartitionsInTurn,
  combineVerdicts,
  DEFAULT_MAX_CACHE_ENTRIES,
  nothingToCheck,
  partitionOperations,
  probeForIllegal,
  resolveBudget,
} from './check.js';
import type { CompleteModel } from './model.js';
import { completeModel } from './model.js';
import type {
  CheckOptions,
  CheckResult,
  Model,
  ModelSource,
  Operation,
  PartitionResult,
} from './types.js';
import type { WireOperation, WirePartitionResult } from './wire.js';
import { resultFromWire, toWire } from './wire.js';

export interface ParallelCheckOptions extends CheckOptions {
  /**
   * Worker threads besides the calling thread (which checks partitions too): a number (0: the
   * calling thread alone), or 'auto' (default): one fewer than the cores when at least two
   * partitions look expensive (see AUTO_WORKER_MIN_OPS), none otherwise.
   */
  workers?: number | 'auto';
}

/**
 * With 'auto', a partition is worth a worker thread when its search may be long: enough
 * operations, and enough of them in flight at once (the search branches on concurrent ones).
 * Many cheap partitions are faster on the calling thread than shipped to workers.
 */
export const AUTO_WORKER_MIN_OPS = 100;
export const AUTO_WORKER_MIN_CONCURRENCY = 6;
/**
 * And the expensive partitions together have this many operations: below it, starting a worker
 * (a thread, a module graph and the model to load) costs more than it saves (measured on the kv
 * reference histories, 2,000 operations: three times slower with a worker).
 */
export const AUTO_WORKER_MIN_TOTAL_OPS = 10_000;

/**
 * The largest number of operations of `ops` with a finite return in flight at one instant
 * (indeterminate ones would count as in flight forever, saying little about the search).
 */
export function maxConcurrency(ops: readonly Operation<unknown, unknown>[]): number {
  let n = 0;
  for (const op of ops) if (op.return !== Number.POSITIVE_INFINITY) n++;
  const calls = new Float64Array(n);
  const returns = new Float64Array(n);
  let k = 0;
  for (const op of ops) {
    if (op.return === Number.POSITIVE_INFINITY) continue;
    calls[k] = op.call;
    returns[k++] = op.return;
  }
  calls.sort();
  returns.sort();
  let open = 0;
  let best = 0;
  let r = 0;
  for (let c = 0; c < calls.length; c++) {
    // Closed intervals: a return at the instant of a call still overlaps it.
    while (r < returns.length && returns[r]! < calls[c]!) {
      r++;
      open--;
    }
    open++;
    if (open > best) best = open;
  }
  return best;
}

export interface WorkerData {
  source: ModelSource;
  deadline: number | null;
  maxCacheEntries: number;
  verbose: boolean;
  decideAll: boolean;
  /** Int32 0: cancellation flag; Int32 1: the next position of `partitions` to claim. */
  shared: SharedArrayBuffer;
  /** The partitions, in the order they are claimed. */
  partitions: { index: number; key: string; ops: WireOperation<unknown, unknown>[] }[];
}

export type WorkerResponse =
  | { started: number }
  | { done: true }
  | { index: number; result: WirePartitionResult<unknown, unknown> }
  | { index: number; error: string };

/** Imports a model from its source (an export that is a Model, or a function returning one). */
export async function loadModel(source: ModelSource): Promise<Model<unknown, unknown, unknown>> {
  const mod = (await import(source.module)) as Record<string, unknown>;
  const exported = mod[source.exportName];
  if (typeof exported === 'function') {
    return (exported as (...args: unknown[]) => Model<unknown, unknown, unknown>)(
      ...(source.args ?? []),
    );
  }
  if (exported !== null && typeof exported === 'object')
    return exported as Model<unknown, unknown, unknown>;
  throw new Error(`${source.module} has no model export ${JSON.stringify(source.exportName)}`);
}

/**
 * The worker script: compiled JS next to this file; or, when running from TS source (vitest,
 * tsx), the .ts worker loaded through tsx. On Node 20 `execArgv: ['--import', 'tsx']` does not
 * install tsx's loader in a worker thread, so a two-line bootstrap registers it first.
 */
function workerScript(): { script: string | URL; evaluate: boolean } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { script: new URL('./worker.js', here), evaluate: false };
  const require = createRequire(here);
  const api = pathToFileURL(
    join(dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs'),
  ).href;
  const worker = new URL('./worker.ts', here).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(worker)}); });`;
  return { script: code, evaluate: true };
}

/** The partitions whose search may be long (see AUTO_WORKER_MIN_OPS): how many, and their operations. */
function heavyPartitions(parts: readonly Partition<unknown, unknown>[]): {
  count: number;
  ops: number;
} {
  let count = 0;
  let ops = 0;
  for (const p of parts) {
    if (
      p.ops.length >= AUTO_WORKER_MIN_OPS &&
      maxConcurrency(p.ops) >= AUTO_WORKER_MIN_CONCURRENCY
    ) {
      count++;
      ops += p.ops.length;
    }
  }
  return { count, ops };
}

/** Worker threads to start besides the calling thread, which checks partitions too. */
function workerCount(
  option: number | 'auto' | undefined,
  parts: readonly Partition<unknown, unknown>[],
  heavy: { count: number; ops: number },
): number {
  if (parts.length < 2) return 0;
  if (option === undefined || option === 'auto') {
    const cores = Math.max(1, availableParallelism());
    if (cores < 2 || heavy.ops < AUTO_WORKER_MIN_TOTAL_OPS) return 0;
    return heavy.count >= 2 ? Math.min(cores - 1, heavy.count - 1) : 0;
  }
  return Math.max(0, Math.min(Math.floor(option), parts.length - 1));
}

/**
 * Checks a history, on worker threads when that pays (see `workers`). `model` is the model the
 * source yields, when the caller has it already (it is loaded from `source` otherwise).
 */
export async function checkOperationsParallel<I, O>(
  source: ModelSource,
  ops: readonly Operation<I, O>[],
  options: ParallelCheckOptions = {},
  model?: Model<unknown, I, O>,
): Promise<CheckResult<I, O>> {
  const start = Date.now();
  const empty = nothingToCheck(ops, start);
  if (empty !== undefined) return empty;
  const complete = completeModel((model ?? (await loadModel(source))) as Model<unknown, I, O>);
  const parts = partitionOperations(complete, ops, options.partition !== false);
  const auto = options.workers === undefined || options.workers === 'auto';
  const heavy =
    auto && parts.length > 1
      ? heavyPartitions(parts as Partition<unknown, unknown>[])
      : { count: 0, ops: 0 };
  const workers = workerCount(options.workers, parts as Partition<unknown, unknown>[], heavy);
  const budget: PartitionBudget = resolveBudget(options, start);
  const signal = options.signal;
  const onThisThread: PartitionBudget = signal
    ? { ...budget, stop: () => (signal.aborted ? 'cancelled' : undefined) }
    : budget;
  // Where the search of several partitions may be long, and which partition is reported illegal
  // was never fixed (threads race for it): a short check of each first, which often finds an
  // illegal one at once, with no thread to start; the legal ones it finishes are not redone.
  let rest = parts;
  let probed: PartitionResult<I, O>[] = [];
  if (heavy.count >= 2 && options.decideAll !== true) {
    const probe = probeForIllegal(complete, parts, onThisThread);
    if (probe.illegal?.valid === false) {
      return { valid: false, partitions: [probe.illegal], elapsedMs: Date.now() - start };
    }
    probed = [...probe.legal.values()];
    rest = parts.filter((_, i) => !probe.legal.has(i));
  }
  const threads = Math.min(workers, rest.length - 1);
  const checked =
    threads <= 0
      ? checkPartitionsInTurn(complete, rest, onThisThread, options.decideAll === true, start)
          .partitions
      : await runWithWorkers(source, complete, rest, budget, threads, options);
  // In the order of the partitions, as the check of all of them would give.
  let partitions = checked;
  if (probed.length > 0) {
    const position = new Map(parts.map((p, i) => [p.key, i]));
    partitions = [...probed, ...checked].sort(
      (a, b) => position.get(a.key)! - position.get(b.key)!,
    );
  }
  return {
    valid: combineVerdicts(partitions.map((p) => p.valid)),
    partitions,
    elapsedMs: Date.now() - start,
  };
}

/**
 * Every thread, the calling one included, claims the next partition (largest first) from a
 * counter shared through a SharedArrayBuffer, so that no thread waits for another to hand out
 * work: the calling thread searches synchronously and could not answer a worker meanwhile. A
 * quick history is done before any worker is up; a slow one gets every thread. A cancellation
 * flag shared by all threads stops every search at once.
 */
async function runWithWorkers<I, O>(
  source: ModelSource,
  model: CompleteModel<unknown, I, O>,
  parts: Partition<I, O>[],
  budget: PartitionBudget,
  count: number,
  options: ParallelCheckOptions,
): Promise<PartitionResult<I, O>[]> {
  const shared = new SharedArrayBuffer(8);
  const cancel = new Int32Array(shared, 0, 1);
  const claim = new Int32Array(shared, 4, 1);
  const decideAll = options.decideAll === true;
  // The default memory bound is for the whole check: share it between the threads.
  const maxCacheEntries =
    options.maxCacheEntries ?? Math.max(1, Math.floor(DEFAULT_MAX_CACHE_ENTRIES / (count + 1)));
  // Largest partitions first, so that a long one does not start last.
  const order = parts.map((_, i) => i).sort((a, b) => parts[b]!.ops.length - parts[a]!.ops.length);
  const data: WorkerData = {
    source,
    deadline: Number.isFinite(budget.deadline) ? budget.deadline : null,
    maxCacheEntries,
    verbose: budget.verbose,
    decideAll,
    shared,
    partitions: order.map((i) => ({
      index: i,
      key: parts[i]!.key,
      ops: parts[i]!.ops.map(toWire) as WireOperation<unknown, unknown>[],
    })),
  };
  const results: (PartitionResult<I, O> | undefined)[] = new Array(parts.length);
  const signal = options.signal;
  const cancelled = (): boolean => Atomics.load(cancel, 0) !== 0;
  const stopAll = (): void => {
    Atomics.store(cancel, 0, 1);
  };
  const onAbort = (): void => stopAll();
  if (signal?.aborted) stopAll();
  signal?.addEventListener('abort', onAbort);
  const record = (i: number, r: PartitionResult<I, O>): void => {
    // Workers are handed keys and operations only.
    const keys = parts[i]!.keys;
    if (keys !== undefined) r.keys = keys;
    results[i] = r;
    if (r.valid === false && !decideAll) stopAll();
  };

  const { script, evaluate } = workerScript();
  const threads: Worker[] = [];
  let running = count;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  for (let k = 0; k < count; k++) {
    const w = new Worker(script, { workerData: data, eval: evaluate });
    threads.push(w);
    let current: number | undefined;
    let finished = false;
    const finish = (): void => {
      if (!finished) running--;
      finished = true;
    };
    w.on('message', (msg: WorkerResponse) => {
      if ('started' in msg) current = msg.started;
      else if ('done' in msg) {
        finish();
        current = undefined;
      } else if ('error' in msg) {
        failure = new Error(
          `checking partition ${JSON.stringify(parts[msg.index]!.key)} failed: ${msg.error}`,
        );
        stopAll();
      } else {
        current = undefined;
        record(msg.index, resultFromWire(msg.result) as PartitionResult<I, O>);
      }
      notify();
    });
    w.on('error', (e: Error & { code?: string }) => {
      finish();
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY' && current !== undefined) {
        const p = parts[current]!;
        record(current, {
          key: p.key,
          valid: 'unknown',
          reason: 'memory',
          operations: p.ops.length,
          elapsedMs: 0,
        });
      } else {
        failure = e;
        stopAll();
      }
      notify();
    });
    w.on('exit', () => {
      finish();
      notify();
    });
  }

  const local: PartitionBudget = {
    ...budget,
    maxCacheEntries,
    stop: () => (cancelled() ? 'cancelled' : undefined),
  };
  // With an abort signal this thread stays free to hear it: its own event loop could not
  // deliver the abort while it searched.
  const searchHere = signal === undefined;
  try {
    while (searchHere && !cancelled() && failure === undefined) {
      const k = Atomics.add(claim, 0, 1);
      if (k >= order.length) break;
      record(order[k]!, checkPartition(model, parts[order[k]!]!, local));
      // Let worker messages in between partitions.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    while (running > 0 && failure === undefined)
      await new Promise<void>((resolve) => (wake = resolve));
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // A worker still starting up may take a while to stop: do not wait for it.
    for (const w of threads) {
      w.unref();
      void w.terminate();
    }
  }
  if (failure) throw failure;

  const aborted = signal?.aborted ?? false;
  const out: PartitionResult<I, O>[] = [];
  for (let i = 0; i < parts.length; i++) {
    const r = results[i];
    if (r !== undefined) {
      // Partitions cancelled because another was illegal are left out, as on one thread.
      if (!aborted && r.valid === 'unknown' && r.reason === 'cancelled') continue;
      out.push(r);
    } else if (aborted) {
      const p = parts[i]!;
      out.push({
        key: p.key,
        ...(p.keys !== undefined ? { keys: p.keys } : {}),
        valid: 'unknown',
        reason: 'cancelled',
        operations: p.ops.length,
        elapsedMs: 0,
      });
    }
  }
  return out;
}
