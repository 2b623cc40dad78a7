import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { HistoryEvent, Key, OpType, ProcessId } from '../checker/history/event.js';

/** An event as the runner hands it over: the recorder adds `index` and `time`. */
export interface EventInput {
  process: ProcessId;
  type: OpType;
  f: string;
  key?: Key;
  value?: unknown;
  node?: string;
  error?: unknown;
  /** Extra fields (nemesis details, system timestamps), written as they are. */
  [extra: string]: unknown;
}

export interface RecorderOptions {
  /** Buffered events are written at least this often (default 100 ms). */
  flushIntervalMs?: number;
  /** Buffered bytes (roughly) that trigger a write on their own (default 256 KiB). */
  bufferBytes?: number;
  /** The run's start on the `performance.now()` clock, ms (default: now). */
  startMs?: number;
}

const KNOWN = new Set(['index', 'time', 'process', 'type', 'f', 'key', 'value', 'node', 'error']);

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
  /** Lines not yet written, concatenated (V8 keeps this a rope until the write flattens it). */
  private pending = '';
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
    // Serialized before index and time are added: the object keeps its shape for the field loop.
    const line = serializeAt(input, index, t);
    const event = input as EventInput & { index: number; time: number };
    event.index = index;
    event.time = t;
    this.pending += line;
    if (this.pending.length >= this.bufferBytes) this.flush();
    return event as HistoryEvent;
  }

  /** Writes every buffered event to the file (not fsynced). */
  flush(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.fd === undefined || this.pending.length === 0) return;
    const data = this.pending;
    this.pending = '';
    writeSync(this.fd, data);
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

// JSON text of the few distinct `f`s and keys a run uses, computed once.
const quoted = new Map<string, string>();
function quote(s: string): string {
  let q = quoted.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (quoted.size < 10_000) quoted.set(s, q);
  }
  return q;
}

function valueJson(v: unknown): string {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string') return v.length <= 32 ? quote(v) : JSON.stringify(v);
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') {
    if (Number.isFinite(v[0]) && Number.isFinite(v[1])) return `[${v[0]},${v[1]}]`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** One JSONL line, fields in the documented order (faster than stringifying the whole object). */
export function serialize(e: HistoryEvent): string {
  return serializeAt(e as EventInput, e.index, e.time);
}

function serializeAt(e: EventInput, index: number, time: number): string {
  const p = e.process;
  let s = `{"index":${index},"time":${time},"process":${typeof p === 'number' ? p : quote(p)},"type":"${e.type}","f":${quote(e.f)}`;
  const key = e.key;
  if (key !== undefined)
    s += `,"key":${typeof key === 'number' ? valueJson(key) : key.length <= 32 ? quote(key) : JSON.stringify(key)}`;
  if (e.value !== undefined) s += `,"value":${valueJson(e.value)}`;
  if (e.node !== undefined) s += `,"node":${quote(e.node)}`;
  if (e.error !== undefined) s += `,"error":${JSON.stringify(e.error)}`;
  for (const k in e) {
    if (KNOWN.has(k)) continue;
    const v = (e as Record<string, unknown>)[k];
    if (v !== undefined) s += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  }
  return `${s}}\n`;
}
