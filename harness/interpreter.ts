import type { HistoryEvent } from '../checker/history/event.js';
import type { Client, ErrorRegistry, Op } from './client.js';
import { OpTimeout, RunStopped } from './client.js';
import type { Gen } from './generator/types.js';
import type { Rng } from './random.js';
import type { EventInput } from './recorder.js';

/** Rejects with the signal's reason when it aborts (never settles otherwise). */
function abortedPromise(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Where events go: the recorder, or a test's array. */
export interface EventSink {
  now(): number;
  record(input: EventInput): HistoryEvent;
}

/**
 * The logical processes of a run. Worker (thread) t runs one process at a time; after an `info`
 * completion its process id is retired and the next is id + concurrency, as in Jepsen, so a
 * process id never has two operations whose outcomes overlap.
 */
export class ProcessTable {
  private readonly ids: number[];
  constructor(readonly concurrency: number) {
    this.ids = Array.from({ length: concurrency }, (_, t) => t);
  }
  of(thread: number): number {
    return this.ids[thread] as number;
  }
  retire(thread: number): number {
    const next = (this.ids[thread] as number) + this.concurrency;
    this.ids[thread] = next;
    return next;
  }
}

export interface InterpretOptions<O extends Op> {
  gen: Gen<O>;
  processes: ProcessTable;
  /** The client worker `thread` uses (bound to one node). */
  client(thread: number): Client<O>;
  errors: ErrorRegistry;
  /** Each worker's random stream (forked from the run's seed by the caller). */
  rng(thread: number): Rng;
  sink: EventSink;
  opTimeoutMs: number;
  /** Stops asking for ops; ops in flight are aborted and recorded as info. */
  signal: AbortSignal;
  /** Called with every completion event (progress counters). */
  onCompletion?(event: HistoryEvent): void;
  /** How long a worker told "pending" without a wake time waits at most (default 10 ms). */
  pollMs?: number;
}

/**
 * Runs `gen` with `processes.concurrency` workers until it is exhausted or `signal` aborts.
 * Each worker asks the generator, waits until the op's time, records the invoke, calls its
 * client, and records exactly one completion: `ok`, or the registry's `fail`/`info` for an
 * error, `info` for a timeout or an abort.
 */
export async function interpret<O extends Op>(options: InterpretOptions<O>): Promise<void> {
  const { processes, sink, signal, errors } = options;
  const threads = processes.concurrency;
  const pollMs = options.pollMs ?? 10;
  let gen: Gen<O> | undefined = options.gen;
  let busy = 0;
  // Resolved (and replaced) whenever an op completes: wakes workers told "pending".
  let changed: () => void = () => {};
  let change = new Promise<void>((r) => {
    changed = r;
  });
  // One abort listener for the whole run (not one per op): it aborts every op in flight and
  // wakes every sleeping worker.
  const inFlight = new Set<AbortController>();
  const sleepers = new Set<() => void>();
  const onStop = () => {
    for (const c of inFlight) c.abort(new RunStopped());
    for (const wake of sleepers) wake();
  };
  signal.addEventListener('abort', onStop, { once: true });
  /** Resolves after `ms`, when the run stops, or (with `orChange`) when another op completes. */
  const sleep = (ms: number, orChange = false) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const wake = () => {
        // Clear the timer whatever woke us: a forgotten long timer keeps the process alive.
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
      if (orChange) void change.then(wake);
    });
  const notify = () => {
    const fire = changed;
    change = new Promise<void>((r) => {
      changed = r;
    });
    fire();
  };

  /** A fresh event for the op (the recorder takes each event object over). */
  const eventFor = (process: number, type: EventInput['type'], op: O): EventInput => {
    const e: EventInput = { process, type, f: op.f };
    if (op.key !== undefined) e.key = op.key;
    if (op.value !== undefined) e.value = op.value;
    return e;
  };

  async function perform(thread: number, op: O): Promise<void> {
    const process = processes.of(thread);
    sink.record(eventFor(process, 'invoke', op));
    const ctl = new AbortController();
    const timer = setTimeout(
      () => ctl.abort(new OpTimeout(options.opTimeoutMs)),
      options.opTimeoutMs,
    );
    if (signal.aborted) ctl.abort(new RunStopped());
    inFlight.add(ctl);
    let completion: EventInput;
    try {
      // The op ends at the timeout or stop even if the client ignores its signal.
      const call = options.client(thread).invoke(op, ctl.signal);
      call.catch(() => {}); // its late failure, after an abort, is not news
      const r = await Promise.race([call, abortedPromise(ctl.signal)]);
      completion = eventFor(process, 'ok', op);
      if (r.value !== undefined) completion.value = r.value;
      if (r.extra !== undefined) {
        for (const [k, v] of Object.entries(r.extra)) if (!(k in completion)) completion[k] = v;
      }
    } catch (e) {
      const c = errors.classify(ctl.signal.aborted ? ctl.signal.reason : e);
      completion = eventFor(process, c.type, op);
      completion.error = c.error;
    } finally {
      clearTimeout(timer);
      inFlight.delete(ctl);
    }
    const event = sink.record(completion);
    if (completion.type === 'info') processes.retire(thread);
    options.onCompletion?.(event);
  }

  async function worker(thread: number): Promise<void> {
    const rng = options.rng(thread);
    while (!signal.aborted && gen !== undefined) {
      const now = sink.now();
      const step = gen.next({ time: now, thread, threads, busy, rng });
      if (step === undefined) {
        gen = undefined;
        break;
      }
      gen = step.next;
      if (step.kind === 'pending') {
        const waitMs = step.wakeAt === undefined ? pollMs : Math.max(0, (step.wakeAt - now) / 1e6);
        await sleep(waitMs, true);
        continue;
      }
      busy++;
      try {
        const waitMs = (step.at - now) / 1e6;
        if (waitMs >= 1) await sleep(waitMs);
        if (signal.aborted) break;
        await perform(thread, step.op);
      } finally {
        busy--;
        notify();
      }
    }
    notify();
  }

  try {
    await Promise.all(Array.from({ length: threads }, (_, t) => worker(t)));
  } finally {
    signal.removeEventListener('abort', onStop);
  }
}
