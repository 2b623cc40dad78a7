import type { HistoryEvent } from '../checker/history/event.js';
import type { Client, ErrorRegistry, OkResult, Op } from '../core/client.js';
import { OpTimeout, RunStopped } from '../core/client.js';
import type { EventInput } from '../core/event.js';
import type { Gen } from '../core/generator.js';
import type { Rng } from '../core/random.js';

/** Where events go: the recorder, or a test's array. */
export interface EventSink {
  now(): number;
  /** `time`: when it happened, if the caller just read `now()` (the sink may ignore it). */
  record(input: EventInput, time?: number): HistoryEvent;
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
  /** The node worker `thread`'s client talks to: recorded as `node` on its completions. */
  node?(thread: number): string;
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

/** A worker's op in flight, as the timeout sweep and the stop handler see it. */
interface Slot {
  /** The worker's op signal's controller: reused for its ops until it aborts (see below). */
  ctl: AbortController;
  /** Ops since `ctl` was made. */
  uses: number;
  /** When the op in flight was invoked (the sink's clock, ns), or -1: none in flight. */
  startedNs: number;
  /** Ends the op in flight now (its outcome: the abort reason), whatever the client does. */
  cut: ((reason: unknown) => void) | undefined;
}

/**
 * A worker's op signal serves this many ops at most before a fresh one is made: making an
 * AbortSignal costs about as much as the rest of an op's bookkeeping, and a client that adds an
 * abort listener per op without removing it (node:http removes its own) then holds a few at most.
 */
const SIGNAL_REUSE = 8;

/**
 * Runs `gen` with `processes.concurrency` workers until it is exhausted or `signal` aborts.
 * Each worker asks the generator, waits until the op's time, records the invoke, calls its
 * client, and records exactly one completion: `ok`, or the registry's `fail`/`info` for an
 * error, `info` for a timeout or an abort.
 *
 * Per op, the interpreter makes no timer and no listener: op timeouts are found by one sweep
 * timer (every opTimeoutMs / 8, at most 100 ms), so an op ends between its timeout and one sweep
 * later; a worker's op signal is shared by a few successive ops (a client must not keep an
 * abort listener past its op, and must not read an op's outcome from the signal after it ends).
 */
export async function interpret<O extends Op>(options: InterpretOptions<O>): Promise<void> {
  const { processes, sink, signal, errors, opTimeoutMs } = options;
  const threads = processes.concurrency;
  const pollMs = options.pollMs ?? 10;
  let gen: Gen<O> | undefined = options.gen;
  let busy = 0;
  const slots: Slot[] = Array.from({ length: threads }, () => ({
    ctl: new AbortController(),
    uses: 0,
    startedNs: -1,
    cut: undefined,
  }));
  /** Aborts the worker's op in flight with `reason`: its signal, and its wait for the client. */
  const abortSlot = (slot: Slot, reason: unknown) => {
    slot.ctl.abort(reason);
    slot.cut?.(reason);
  };
  // Wakes workers told "pending" (without a time) when an op completes; made only when needed.
  let changeWaiters: (() => void)[] = [];
  const notify = () => {
    if (changeWaiters.length === 0) return;
    const wake = changeWaiters;
    changeWaiters = [];
    for (const w of wake) w();
  };
  // One abort listener for the whole run (not one per op): it aborts every op in flight and
  // wakes every sleeping worker.
  const sleepers = new Set<() => void>();
  const onStop = () => {
    for (const slot of slots) if (slot.startedNs >= 0) abortSlot(slot, new RunStopped());
    for (const wake of sleepers) wake();
  };
  signal.addEventListener('abort', onStop, { once: true });
  const timeoutNs = opTimeoutMs * 1e6;
  const sweep = setInterval(
    () => {
      const now = sink.now();
      for (const slot of slots) {
        if (slot.startedNs >= 0 && now - slot.startedNs >= timeoutNs) {
          abortSlot(slot, new OpTimeout(opTimeoutMs));
        }
      }
    },
    Math.max(1, Math.min(100, opTimeoutMs / 8)),
  );
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
      if (orChange) changeWaiters.push(wake);
    });

  /**
   * A fresh event for the op (the recorder takes each event object over). `index` and `time`
   * come first, as the recorder will set them: the object then keeps its shape.
   */
  const eventFor = (process: number, type: EventInput['type'], op: O): EventInput => {
    const e: EventInput = { index: 0, time: 0, process, type, f: op.f };
    if (op.key !== undefined) e.key = op.key;
    if (op.value !== undefined) e.value = op.value;
    return e;
  };

  async function perform(thread: number, op: O, invokedAt: number): Promise<void> {
    const process = processes.of(thread);
    sink.record(eventFor(process, 'invoke', op), invokedAt);
    const slot = slots[thread] as Slot;
    if (slot.ctl.signal.aborted || slot.uses >= SIGNAL_REUSE) {
      slot.ctl = new AbortController();
      slot.uses = 0;
    }
    slot.uses++;
    const ctl = slot.ctl;
    if (signal.aborted) ctl.abort(new RunStopped());
    slot.startedNs = invokedAt;
    let completion: EventInput;
    try {
      const call = options.client(thread).invoke(op, ctl.signal);
      // The op ends at the timeout or stop even if the client ignores its signal (its late
      // answer is then no news).
      const r = await new Promise<OkResult>((resolve, reject) => {
        slot.cut = reject;
        call.then(resolve, reject);
        if (ctl.signal.aborted) reject(ctl.signal.reason);
      });
      completion = eventFor(process, 'ok', op);
      if (r.value !== undefined) completion.value = r.value;
      if (r.extra !== undefined) {
        for (const [k, v] of Object.entries(r.extra)) if (!(k in completion)) completion[k] = v;
      }
    } catch (e) {
      const c = errors.classify(ctl.signal.aborted ? ctl.signal.reason : e);
      completion = eventFor(process, c.type, op);
      completion.error = c.error;
      if (c.unavailable === true) completion.unavailable = true;
    } finally {
      slot.startedNs = -1;
      slot.cut = undefined;
    }
    if (options.node !== undefined) completion.node = options.node(thread);
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
        // Invoked now: the time read for the ask, unless the worker slept for the op's time.
        await perform(thread, step.op, waitMs >= 1 ? sink.now() : now);
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
    clearInterval(sweep);
    signal.removeEventListener('abort', onStop);
  }
}
