import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { HistoryEvent } from '../checker/history/event.js';
import type { EventInput } from '../core/event.js';
import { encodeLine, JsonLineEncoder } from './jsonl-encoder.js';

export interface RecorderOptions {
  /** Buffered events are written at least this often (default 100 ms). */
  flushIntervalMs?: number;
  /** Buffered bytes (roughly) that trigger a write on their own (default 256 KiB). */
  bufferBytes?: number;
  /** The run's start on the `performance.now()` clock, ms (default: now). */
  startMs?: number;
}

/**
 * Appends every invoke, completion and nemesis event to `history.jsonl` as it happens. Events are
 * buffered and written with plain write(2) at least every `flushIntervalMs` and on `flush()`
 * (phase boundaries), so a harness killed with SIGKILL leaves every event up to the last flush,
 * and at worst a truncated last line, which the history reader drops with a warning. `close()`
 * flushes and fsyncs. Times are nanoseconds since the run started on the monotonic clock.
 */
export class Recorder {
  readonly file: string;
  /** The run's start on the `performance.now()` clock (ms). */
  readonly startMs: number;
  private fd: number | undefined;
  /** Lines not yet written, as UTF-8 bytes. */
  private readonly pending = new JsonLineEncoder();
  private index = 0;
  private lastTime = 0;
  private readonly bufferBytes: number;
  private readonly timer: NodeJS.Timeout;
  private failure: unknown;

  constructor(file: string, options: RecorderOptions = {}) {
    this.file = file;
    this.startMs = options.startMs ?? performance.now();
    this.bufferBytes = options.bufferBytes ?? 1 << 18;
    // 'a': append only, never rewrite; created if missing.
    this.fd = openSync(file, 'a');
    this.timer = setInterval(() => this.flushQuietly(), options.flushIntervalMs ?? 100);
    this.timer.unref();
  }

  /** Nanoseconds since the run started (monotonic). */
  now(): number {
    // performance.now() reads the same monotonic clock as process.hrtime (libuv's hrtime) with
    // sub-microsecond resolution, without a BigInt per event (a third of the recorder's cost).
    return Math.round((performance.now() - this.startMs) * 1e6);
  }

  /** Events recorded so far. */
  get count(): number {
    return this.index;
  }

  /**
   * Records one event now (or at `time`, never earlier than the previous event) and returns it.
   * The recorder takes the input object over: it becomes the event (index and time added), which
   * spares a copy per event.
   */
  record(input: EventInput, time?: number): HistoryEvent {
    if (this.fd === undefined) throw new Error(`${this.file}: recorder is closed`);
    let t = time ?? this.now();
    if (t < this.lastTime) t = this.lastTime;
    this.lastTime = t;
    const index = this.index++;
    // Encoded before index and time are added: the object keeps its shape for the field loop.
    this.pending.encode(input, index, t);
    const event = input as EventInput & { index: number; time: number };
    event.index = index;
    event.time = t;
    if (this.pending.length >= this.bufferBytes) this.flush();
    return event as HistoryEvent;
  }

  /** Writes every buffered event to the file (not fsynced). */
  flush(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.fd === undefined || this.pending.length === 0) return;
    // One write(2) per flush (more only if the kernel takes part of it), whole lines only.
    const data = this.pending.take();
    for (let off = 0; off < data.length; ) off += writeSync(this.fd, data, off, data.length - off);
  }

  private flushQuietly(): void {
    try {
      this.flush();
    } catch (e) {
      this.failure ??= e;
    }
  }

  /** Flushes, fsyncs and closes. Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    clearInterval(this.timer);
    try {
      this.flush();
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

/** One JSONL line, fields in the documented order: exactly what the recorder writes. */
export function serialize(e: HistoryEvent): string {
  return encodeLine(e as EventInput, e.index, e.time);
}
