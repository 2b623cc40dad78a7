/**
 * Well-formedness of a history, whatever format it came from:
 *
 * - indices run densely from 0 (`index` = position);
 * - `time` never decreases;
 * - `type` is one of invoke|ok|fail|info;
 * - a client process runs one operation at a time: an invoke while the process's previous
 *   operation is still open is an error, and so is a completion with no open invoke, or one
 *   whose `f` (or `key`, when both carry one) differs from its invoke's;
 * - after an `info` completion a process id is retired (DESIGN.md). In our own JSONL a retired
 *   id that invokes again is an error. Imported Jepsen histories sometimes reuse such ids; there
 *   the reuse is accepted (the later invoke is simply a new operation, and the info one stays
 *   indeterminate, which is all the checker needs) and reported once as a warning.
 *
 * Nemesis and observer events (`process: "nemesis"`, `"observer"`: not clients, see ./event.ts)
 * are exempt from pairing: they may log any sequence of info/invoke events.
 */
import { HistoryError, type HistoryWarning, historyWarning } from './errors.js';
import type { HistoryEvent, ProcessId } from './event.js';
import { isClientEvent, OP_TYPES } from './event-kinds.js';
import { show } from './validate.js';

export type RetiredProcessPolicy = 'error' | 'warn';

export interface WellFormedOptions {
  /** The file named in errors. */
  file: string;
  /** What to do when a process invokes again after an info completion (default 'error'). */
  retiredProcesses?: RetiredProcessPolicy;
}

/**
 * What a client process is doing: 'open', an operation invoked (at `line`) and not completed;
 * 'retired', its last operation completed with info (at `line`); 'idle' otherwise. One entry
 * per process, updated in place: one map lookup per event, and no allocation per operation.
 */
interface ProcessState {
  state: 'idle' | 'open' | 'retired';
  /** The open operation's `f` and `key`. */
  f: string;
  key: HistoryEvent['key'];
  line: number | undefined;
}

const OP_TYPE_SET: ReadonlySet<string> = new Set<string>(OP_TYPES);

function proc(p: ProcessId): string {
  return typeof p === 'number' ? `process ${p}` : `process ${JSON.stringify(p)}`;
}

function at(line: number | undefined): string {
  return line === undefined ? '' : ` at line ${line}`;
}

/** Checks events one at a time, as they are read or recorded. */
export class WellFormedChecker {
  private readonly file: string;
  private readonly policy: RetiredProcessPolicy;
  private nextIndex = 0;
  private lastTime = 0;
  private lastTimeLine: number | undefined;
  private readonly processes = new Map<ProcessId, ProcessState>();
  private reuses = 0;
  private firstReuse:
    | { line: number | undefined; process: ProcessId; infoLine: number | undefined }
    | undefined;

  constructor(options: WellFormedOptions) {
    this.file = options.file;
    this.policy = options.retiredProcesses ?? 'error';
  }

  private fail(line: number | undefined, detail: string, field?: string): never {
    const location = { file: this.file, ...(line === undefined ? {} : { line }) };
    throw new HistoryError(field === undefined ? location : { ...location, field }, detail);
  }

  /**
   * Throws a HistoryError when `event` cannot follow the events added before it; the checker
   * is then left as it was, so a writer can refuse the event and go on.
   */
  add(event: HistoryEvent, line?: number): void {
    const state = this.check(event, line);
    this.nextIndex += 1;
    this.lastTime = event.time;
    this.lastTimeLine = line;
    if (!isClientEvent(event)) return;
    if (event.type !== 'invoke') {
      // check() found the process's operation open
      state!.state = event.type === 'info' ? 'retired' : 'idle';
      state!.key = undefined;
      state!.line = line;
      return;
    }
    const { process, f, key } = event;
    if (state === undefined) {
      this.processes.set(process, { state: 'open', f, key, line });
      return;
    }
    if (state.state === 'retired') {
      this.reuses += 1;
      this.firstReuse ??= { line, process, infoLine: state.line };
    }
    state.state = 'open';
    state.f = f;
    state.key = key;
    state.line = line;
  }

  /** Throws at the first problem with `event`; else the state of its process (if a client's). */
  private check(event: HistoryEvent, line: number | undefined): ProcessState | undefined {
    if (event.index !== this.nextIndex) {
      this.fail(
        line,
        `expected ${this.nextIndex} (indices run densely from 0), got ${show(event.index)}`,
        'index',
      );
    }
    if (event.time < this.lastTime) {
      this.fail(
        line,
        `${event.time} is earlier than ${this.lastTime}, the time of the event before it${at(this.lastTimeLine)}; times must not decrease`,
        'time',
      );
    }
    if (!OP_TYPE_SET.has(event.type)) {
      this.fail(line, `expected one of ${OP_TYPES.join('|')}, got ${show(event.type)}`, 'type');
    }
    if (!isClientEvent(event)) return undefined;

    const { process, f } = event;
    const state = this.processes.get(process);
    if (event.type === 'invoke') {
      if (state?.state === 'open') {
        this.fail(
          line,
          `${proc(process)} invokes "${f}" while its "${state.f}" invoked${at(state.line)} has not completed (a process runs one operation at a time)`,
        );
      }
      if (state?.state === 'retired' && this.policy === 'error') {
        this.fail(
          line,
          `${proc(process)} invokes "${f}" after an info completion${at(state.line)}; a process id is retired after info (use a fresh id)`,
        );
      }
      return state;
    }
    if (state?.state !== 'open') {
      this.fail(line, `${event.type} completion of "${f}" by ${proc(process)} without an invoke`);
    }
    if (state.f !== f) {
      this.fail(
        line,
        `the completion's "${f}" differs from "${state.f}" in its invoke${at(state.line)} by ${proc(process)}`,
        'f',
      );
    }
    if (state.key !== undefined && event.key !== undefined && state.key !== event.key) {
      this.fail(
        line,
        `the completion's ${show(event.key)} differs from ${show(state.key)} in its invoke${at(state.line)} by ${proc(process)}`,
        'key',
      );
    }
    return state;
  }

  /** Warnings gathered along the way (call after the last event). */
  finish(): HistoryWarning[] {
    const first = this.firstReuse;
    if (first === undefined) return [];
    const location = { file: this.file, ...(first.line === undefined ? {} : { line: first.line }) };
    const more = this.reuses > 1 ? ` (${this.reuses} such invokes in all)` : '';
    return [
      historyWarning(
        location,
        `${proc(first.process)} invokes again after an info completion${at(first.infoLine)}${more}; Jepsen would have retired the id, each such invoke is taken as a new operation`,
      ),
    ];
  }
}

/**
 * Checks a whole history; `lines[i]` is the source line of `events[i]` (defaults: none).
 * Returns warnings; throws a HistoryError at the first problem.
 */
export function checkWellFormed(
  events: readonly HistoryEvent[],
  options: WellFormedOptions & { lines?: readonly number[] },
): HistoryWarning[] {
  const checker = new WellFormedChecker(options);
  const { lines } = options;
  for (let i = 0; i < events.length; i++) {
    checker.add(events[i]!, lines?.[i]);
  }
  return checker.finish();
}
