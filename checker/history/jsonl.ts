/**
 * `history.jsonl` (DESIGN.md, "History format"): one event per line, appended as things
 * happen, never rewritten.
 *
 * Reading streams the file line by line. A last line that has no trailing newline and is not
 * valid JSON is what a crash mid-write leaves: it is dropped with a warning and everything
 * before it kept. Any other bad line is a HistoryError naming the file and line. Blank lines
 * are skipped.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { HistoryError, type HistoryWarning, historyWarning } from './errors.js';
import type { HistoryEvent } from './event.js';
import { mayHoldUnsafeInteger, parseJson, stringifyJson } from './json.js';
import { isHistoryEvent, parseHistoryEvent } from './validate.js';
import { type RetiredProcessPolicy, WellFormedChecker } from './well-formed.js';

export interface LineEvent {
  event: HistoryEvent;
  /** 1-based line number in the file. */
  line: number;
}

export interface JsonlReadOptions {
  /** Receives warnings (a truncated last line) as they are found. */
  onWarning?: (warning: HistoryWarning) => void;
}

function parseLine(text: string, file: string, line: number): HistoryEvent {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (e) {
    throw new HistoryError({ file, line }, `invalid JSON (${(e as Error).message})`);
  }
  return parseHistoryEvent(exactTime(value), { file, line });
}

/**
 * Times only order events, and were always read as doubles: one beyond 2^53 ns (104 days; an
 * epoch-based clock) is rounded, which keeps their order, rather than refused.
 */
function exactTime(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'time' in value) {
    const v = value as { time: unknown };
    if (typeof v.time === 'bigint') v.time = Number(v.time);
  }
  return value;
}

function isTruncatedJson(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

/** Consecutive events of a JSONL history; `lines[i]` is the line of `events[i]`. */
export interface JsonlBatch {
  events: HistoryEvent[];
  lines: number[];
}

/**
 * Parses complete lines written in `json` as `[line,line,...]`: `lines` of them (newlines
 * already turned into commas), the first being line `firstLine + 1`. One JSON.parse for them
 * all; applies when every line is exactly one JSON value (a blank line or two values on a line
 * make the parse fail, or its length differ from the line count), and when no digit run is
 * long enough to be an integer JSON.parse would round. Undefined when it does not apply.
 */
function parseAsArray(
  json: string,
  lines: number,
  firstLine: number,
  file: string,
): JsonlBatch | undefined {
  if (mayHoldUnsafeInteger(json)) return undefined;
  let values: unknown;
  try {
    values = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!Array.isArray(values) || values.length !== lines) return undefined;
  const lineNos = new Array<number>(lines);
  for (let k = 0; k < lines; k++) {
    const v: unknown = values[k];
    lineNos[k] = firstLine + k + 1;
    // (throws, naming the line and the field)
    if (!isHistoryEvent(v)) parseHistoryEvent(v, { file, line: firstLine + k + 1 });
  }
  return { events: values as HistoryEvent[], lines: lineNos };
}

/**
 * Parses the complete lines `text` (no trailing newline) one at a time, the first being line
 * `firstLine + 1`: exact integers, blank lines skipped, errors worded.
 */
function parseEachLine(text: string, firstLine: number, file: string): JsonlBatch {
  const out: JsonlBatch = { events: [], lines: [] };
  let line = firstLine;
  let from = 0;
  while (from <= text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    line += 1;
    let body = text.slice(from, to);
    from = to + 1;
    if (body.endsWith('\r')) body = body.slice(0, -1);
    if (body.trim() === '') continue;
    out.events.push(parseLine(body, file, line));
    out.lines.push(line);
  }
  return out;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const NEWLINE = 0x0a;
const COMMA = 0x2c;

/**
 * Splits a JSONL history's bytes, as they are read, into complete lines and parses them. A
 * chunk is cut at its last newline byte (which UTF-8 never uses inside a character), so each
 * piece decodes on its own, with no decoder state.
 *
 * The complete lines are copied into a buffer of this reader's as `[line,line,...]` (newline
 * bytes become commas: a newline is never inside a JSON value), decoded once and parsed with
 * one JSON.parse; only when that does not apply (./parseAsArray) are they decoded again and
 * parsed line by line.
 */
export class JsonlChunks {
  /** The start of an unfinished line. */
  private rest: Buffer | undefined;
  private lineNo = 0;
  private first = true;
  /** Where the lines of a chunk are written as a JSON array (reused from chunk to chunk). */
  private array = Buffer.alloc(0);

  constructor(
    private readonly file: string,
    private readonly options: JsonlReadOptions = {},
  ) {}

  /** The events of the lines that `chunk` completes (undefined: none). */
  push(chunk: Buffer): JsonlBatch | undefined {
    let head = this.rest;
    let bytes = chunk;
    if (this.first) {
      bytes = head === undefined ? chunk : Buffer.concat([head, chunk]);
      head = undefined;
      if (bytes.length < BOM.length && BOM.subarray(0, bytes.length).equals(bytes)) {
        this.rest = bytes;
        return undefined;
      }
      this.first = false;
      // A byte-order mark is not part of the first line.
      if (bytes.subarray(0, BOM.length).equals(BOM)) bytes = bytes.subarray(BOM.length);
    }
    const cut = bytes.lastIndexOf(NEWLINE);
    if (cut < 0) {
      this.rest = head === undefined ? bytes : Buffer.concat([head, bytes]);
      return undefined;
    }
    this.rest = cut + 1 < bytes.length ? bytes.subarray(cut + 1) : undefined;
    const body = bytes.subarray(0, cut);
    const firstLine = this.lineNo;
    // [head + body], newlines as commas
    const size = (head?.length ?? 0) + body.length + 2;
    if (this.array.length < size) this.array = Buffer.allocUnsafe(size + (size >> 2));
    const array = this.array.subarray(0, size);
    array[0] = 0x5b;
    const at = head === undefined ? 1 : 1 + head.copy(array, 1);
    body.copy(array, at);
    array[size - 1] = 0x5d;
    let lines = 1;
    for (let i = array.indexOf(NEWLINE, 1); i >= 0; i = array.indexOf(NEWLINE, i + 1)) {
      array[i] = COMMA;
      lines += 1;
    }
    this.lineNo += lines;
    const batch =
      parseAsArray(array.toString('utf8'), lines, firstLine, this.file) ??
      parseEachLine(
        (head === undefined ? body : Buffer.concat([head, body])).toString('utf8'),
        firstLine,
        this.file,
      );
    return batch.events.length > 0 ? batch : undefined;
  }

  /** The event of a last line written without a newline; a warning if it was cut short. */
  finish(): JsonlBatch | undefined {
    const lineNo = this.lineNo + 1;
    let rest = this.rest?.toString('utf8') ?? '';
    if (this.first && rest.startsWith('\uFEFF')) rest = rest.slice(1);
    this.rest = undefined;
    this.array = Buffer.alloc(0);
    const body = rest.endsWith('\r') ? rest.slice(0, -1) : rest;
    if (body.trim() === '') return undefined;
    if (isTruncatedJson(body)) {
      this.options.onWarning?.(
        historyWarning(
          { file: this.file, line: lineNo },
          'the last line is incomplete (no newline, not valid JSON: a crash mid-write?); ignored',
        ),
      );
      return undefined;
    }
    return { events: [parseLine(body, this.file, lineNo)], lines: [lineNo] };
  }
}

/**
 * The events of a JSONL history in batches (one per chunk read). The file is split into lines
 * here rather than by node:readline: with a million lines the per-line callbacks and awaits
 * cost as much as the JSON parsing, and splitting a chunk directly also tells whether the last
 * line ended with a newline.
 */
export async function* readJsonlBatches(
  file: string,
  options: JsonlReadOptions = {},
): AsyncGenerator<JsonlBatch, void, undefined> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  const chunks = new JsonlChunks(file, options);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const batch = chunks.push(chunk);
    if (batch !== undefined) yield batch;
  }
  const last = chunks.finish();
  if (last !== undefined) yield last;
}

/**
 * The events of a JSONL history as they are read, each with its line number. Validates each
 * line against the event schema (not well-formedness: see `readJsonlHistory`).
 */
export async function* readJsonlEvents(
  file: string,
  options: JsonlReadOptions = {},
): AsyncGenerator<LineEvent, void, undefined> {
  for await (const { events, lines } of readJsonlBatches(file, options)) {
    for (let i = 0; i < events.length; i++) yield { event: events[i]!, line: lines[i]! };
  }
}

export interface JsonlHistory {
  events: HistoryEvent[];
  warnings: HistoryWarning[];
}

export interface JsonlHistoryOptions {
  /** Check well-formedness (./well-formed.ts) while reading (default true). */
  wellFormed?: boolean;
  /** Policy for process ids reused after info (default 'error': our own histories retire them). */
  retiredProcesses?: RetiredProcessPolicy;
}

/** Reads, validates and (by default) checks the well-formedness of a whole JSONL history. */
export async function readJsonlHistory(
  file: string,
  options: JsonlHistoryOptions = {},
): Promise<JsonlHistory> {
  const reader = new JsonlHistoryReader(file, options);
  for await (const chunk of createReadStream(file, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    reader.push(chunk);
  }
  return reader.finish();
}

/** As `readJsonlHistory`, from the file's bytes already read. */
export function parseJsonlHistory(
  bytes: Buffer,
  file: string,
  options: JsonlHistoryOptions = {},
): JsonlHistory {
  const reader = new JsonlHistoryReader(file, options);
  // In pieces, so that each JSON.parse stays about as large as when streaming.
  for (let at = 0; at < bytes.length; at += 1 << 20)
    reader.push(bytes.subarray(at, at + (1 << 20)));
  return reader.finish();
}

class JsonlHistoryReader {
  private readonly warnings: HistoryWarning[] = [];
  private readonly events: HistoryEvent[] = [];
  private readonly checker: WellFormedChecker | undefined;
  private readonly chunks: JsonlChunks;

  constructor(file: string, options: JsonlHistoryOptions) {
    this.checker =
      options.wellFormed === false
        ? undefined
        : new WellFormedChecker({ file, retiredProcesses: options.retiredProcesses ?? 'error' });
    this.chunks = new JsonlChunks(file, { onWarning: (w) => this.warnings.push(w) });
  }

  push(chunk: Buffer): void {
    this.add(this.chunks.push(chunk));
  }

  private add(batch: JsonlBatch | undefined): void {
    if (batch === undefined) return;
    for (let i = 0; i < batch.events.length; i++) {
      const event = batch.events[i]!;
      this.checker?.add(event, batch.lines[i]);
      this.events.push(event);
    }
  }

  finish(): JsonlHistory {
    this.add(this.chunks.finish());
    if (this.checker !== undefined) this.warnings.push(...this.checker.finish());
    return { events: this.events, warnings: this.warnings };
  }
}

export interface JsonlWriterOptions {
  /** Buffered bytes (roughly) before a write is started on its own (default 64 KiB). */
  bufferSize?: number;
  /** Check each event's well-formedness before it is buffered (default true). */
  wellFormed?: boolean;
}

/**
 * Appends events to a JSONL history. The file is opened for appending only (O_APPEND): existing
 * content is never rewritten. Appends are buffered; `flush` writes the buffer, `sync` also
 * fsyncs, `close` does both and closes. A write error surfaces from the next call.
 */
export class JsonlHistoryWriter {
  readonly file: string;
  private readonly handle: FileHandle;
  private readonly bufferSize: number;
  private readonly checker: WellFormedChecker | undefined;
  private buffer: string[] = [];
  private buffered = 0;
  private lines = 0;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;
  private closed = false;

  private constructor(file: string, handle: FileHandle, options: JsonlWriterOptions) {
    this.file = file;
    this.handle = handle;
    this.bufferSize = options.bufferSize ?? 1 << 16;
    this.checker =
      options.wellFormed === false
        ? undefined
        : new WellFormedChecker({ file, retiredProcesses: 'error' });
  }

  static async open(file: string, options: JsonlWriterOptions = {}): Promise<JsonlHistoryWriter> {
    return new JsonlHistoryWriter(file, await open(file, 'a'), options);
  }

  /** Events appended so far. */
  get count(): number {
    return this.lines;
  }

  /** Validates and buffers one event; throws a HistoryError for an event a reader would reject. */
  append(event: HistoryEvent): void {
    this.rethrow();
    if (this.closed) throw new Error(`${this.file}: append after close`);
    const line = this.lines + 1;
    const valid = parseHistoryEvent(event, { file: this.file, line });
    this.checker?.add(valid, line);
    const text = `${stringifyJson(valid)}\n`;
    this.lines = line;
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.buffered >= this.bufferSize) void this.startWrite();
  }

  private rethrow(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private startWrite(): Promise<void> {
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.buffered = 0;
    if (chunk.length > 0) {
      this.writing = this.writing.then(async () => {
        if (this.failure !== undefined) return;
        try {
          await this.handle.appendFile(chunk);
        } catch (e) {
          this.failure = e;
        }
      });
    }
    return this.writing;
  }

  /** Writes everything appended so far. */
  async flush(): Promise<void> {
    await this.startWrite();
    this.rethrow();
  }

  /** Flushes and fsyncs. */
  async sync(): Promise<void> {
    await this.flush();
    await this.handle.sync();
  }

  /** Flushes, fsyncs and closes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.sync();
    } finally {
      await this.handle.close();
    }
  }
}
