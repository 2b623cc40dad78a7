/**
 * The malformed-input corpus (./fixtures/malformed): each file gives its own error, naming the
 * file, the line and what is wrong, as a HistoryError (never a stack trace); truncated last
 * lines give a warning and keep everything before them.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { HistoryFormatOption } from './detect.js';
import { HistoryError } from './errors.js';
import { loadHistory } from './load.js';

const dir = fileURLToPath(new URL('./fixtures/malformed/', import.meta.url));

interface Case {
  file: string;
  format?: HistoryFormatOption;
  line?: number;
  field?: string;
  /** The message after `<path>:<line>: ` (and `field "x": `). */
  detail: string | RegExp;
}

const FORMATS_HELP =
  'expected JSON event objects one per line (jsonl), an EDN vector of op maps (edn), EDN op maps one per line (edn-lines) or Jepsen log lines like "INFO  jepsen.util - 0<TAB>:invoke<TAB>:read<TAB>nil" (jepsen-log)';

const errors: Case[] = [
  { file: 'truncated-middle-line.jsonl', line: 2, detail: /^invalid JSON \(.+\)$/ },
  { file: 'two-values-on-a-line.jsonl', line: 2, detail: /^invalid JSON \(.+\)$/ },
  {
    file: 'wrong-field-type.jsonl',
    line: 2,
    field: 'time',
    detail: 'expected a non-negative number of nanoseconds, got "soon"',
  },
  {
    file: 'negative-process.jsonl',
    line: 2,
    field: 'process',
    detail: 'expected a non-negative integer or a non-empty string, got -1',
  },
  {
    file: 'not-an-object.jsonl',
    line: 2,
    detail: 'expected an event object, got an array [1,2,3]',
  },
  {
    file: 'unknown-type.jsonl',
    line: 2,
    field: 'type',
    detail: 'expected one of invoke|ok|fail|info, got "done"',
  },
  {
    file: 'unknown-type.edn',
    line: 2,
    field: 'type',
    detail: 'expected one of invoke|ok|fail|info, got "done"',
  },
  {
    file: 'orphan-completion.jsonl',
    line: 3,
    detail: 'ok completion of "read" by process 2 without an invoke',
  },
  {
    file: 'orphan-completion.edn',
    line: 4,
    detail: 'ok completion of "write" by process 3 without an invoke',
  },
  {
    file: 'double-invoke.jsonl',
    line: 2,
    detail:
      'process 0 invokes "read" while its "write" invoked at line 1 has not completed (a process runs one operation at a time)',
  },
  {
    file: 'f-mismatch.jsonl',
    line: 2,
    field: 'f',
    detail: 'the completion\'s "read" differs from "write" in its invoke at line 1 by process 0',
  },
  {
    file: 'key-mismatch.txt',
    line: 2,
    field: 'key',
    detail: 'the completion\'s "b" differs from "a" in its invoke at line 1 by process 0',
  },
  {
    file: 'time-backwards.jsonl',
    line: 3,
    field: 'time',
    detail:
      '15 is earlier than 20, the time of the event before it at line 2; times must not decrease',
  },
  {
    file: 'index-gap.jsonl',
    line: 2,
    field: 'index',
    detail: 'expected 1 (indices run densely from 0), got 2',
  },
  {
    file: 'retired-process.jsonl',
    line: 3,
    detail:
      'process 0 invokes "read" after an info completion at line 2; a process id is retired after info (use a fresh id)',
  },
  { file: 'unclosed-vector.edn', line: 2, detail: '"[" opened here is never closed' },
  {
    file: 'odd-map.edn',
    line: 2,
    detail: 'a map here has a key without a value (an odd number of forms)',
  },
  {
    file: 'not-a-map.edn',
    line: 3,
    detail:
      'expected an op map like {:process 0, :type :invoke, :f :read}, got "[:process 1 :type :invoke]"',
  },
  { file: 'unterminated-string.edn', line: 2, detail: 'a string opened here is never closed' },
  {
    file: 'map-over-two-lines-as-edn-lines.txt',
    format: 'edn-lines',
    line: 1,
    detail: 'the op map is never closed on its line (one map per line expected)',
  },
  {
    file: 'bad-process.log',
    line: 2,
    field: 'process',
    detail: 'expected an integer or a keyword like :nemesis, got "zero"',
  },
  { file: 'bad-value.log', line: 2, field: 'value', detail: 'expected one EDN value, got "[1 2"' },
  {
    file: 'unknown-format.txt',
    detail: `cannot tell the history format from its first line "hello": ${FORMATS_HELP}; name the format explicitly (--format)`,
  },
  {
    file: 'empty.txt',
    detail: `the file has no history in it, so its format cannot be told; ${FORMATS_HELP}`,
  },
  { file: 'does-not-exist.jsonl', detail: 'cannot read the history: no such file' },
  {
    file: 'empty.txt',
    format: 'xml' as HistoryFormatOption,
    detail: 'unknown history format "xml": expected one of auto|jsonl|edn|jepsen-log|edn-lines',
  },
];

async function loadError(path: string, format: HistoryFormatOption = 'auto'): Promise<unknown> {
  try {
    await loadHistory(path, format);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('malformed histories', () => {
  for (const c of errors) {
    it(`${c.file}${c.format ? ` as ${c.format}` : ''}: ${String(c.detail).slice(0, 50)}`, async () => {
      const path = join(dir, c.file);
      const e = await loadError(path, c.format);
      expect(e).toBeInstanceOf(HistoryError);
      const err = e as HistoryError;
      expect(err.file).toBe(path);
      expect(err.line).toBe(c.line);
      expect(err.field).toBe(c.field);
      const prefix = `${path}:${c.line === undefined ? '' : `${c.line}:`}${c.field === undefined ? '' : ` field "${c.field}":`} `;
      expect(err.message.startsWith(prefix)).toBe(true);
      const detail = err.message.slice(prefix.length);
      if (typeof c.detail === 'string') expect(detail).toBe(c.detail);
      else expect(detail).toMatch(c.detail);
      expect(err.detail).toBe(detail);
      expect(err.message).not.toMatch(/\n\s+at /);
    });
  }

  it('a truncated last line in JSONL is a warning; the events before it are kept', async () => {
    const path = join(dir, 'truncated-last-line.jsonl');
    const h = await loadHistory(path);
    expect(h.events.map((e) => [e.index, e.type, e.f])).toEqual([
      [0, 'invoke', 'write'],
      [1, 'ok', 'write'],
      [2, 'invoke', 'read'],
    ]);
    expect(h.warnings).toEqual([
      {
        file: path,
        line: 4,
        message: `${path}:4: the last line is incomplete (no newline, not valid JSON: a crash mid-write?); ignored`,
      },
    ]);
  });

  it('a truncated last line in one-map-per-line EDN is a warning too', async () => {
    const path = join(dir, 'truncated-last-line.txt');
    const h = await loadHistory(path);
    expect(h.format).toBe('edn-lines');
    expect(h.events.map((e) => [e.process, e.type, e.key])).toEqual([
      [0, 'invoke', 'a'],
      [0, 'ok', 'a'],
    ]);
    expect(h.warnings.map((w) => w.message)).toEqual([
      `${path}:3: the last line is incomplete (no newline, not a complete map: a crash mid-write?); ignored`,
    ]);
  });

  it('a truncated last log line is a warning, the op stays pending', async () => {
    const path = join(dir, 'truncated-last-line.log');
    const h = await loadHistory(path);
    expect(h.events.map((e) => [e.process, e.type, e.f])).toEqual([
      [0, 'invoke', 'write'],
      [0, 'ok', 'write'],
      [1, 'invoke', 'read'],
    ]);
    expect(h.warnings.map((w) => w.message)).toEqual([
      `${path}:4: the last line is incomplete (no newline, does not parse: a crash mid-write?); ignored`,
    ]);
  });

  it('a map spread over two lines is read as EDN when the format is detected', async () => {
    const h = await loadHistory(join(dir, 'map-over-two-lines-as-edn-lines.txt'));
    expect(h.format).toBe('edn');
    expect(h.events).toEqual([
      { index: 0, time: 0, process: 0, type: 'invoke', f: 'put', key: 'a', value: 'x' },
    ]);
  });

  it('ops without a :time everywhere get times from the file order, with a warning', async () => {
    const path = join(dir, 'partial-times.edn');
    const h = await loadHistory(path);
    expect(h.events.map((e) => [e.time, e.sourceTime])).toEqual([
      [0, 100],
      [1, 200],
      [2, undefined],
    ]);
    expect(h.warnings.map((w) => w.message)).toEqual([
      `${path}: only 2 of 3 ops carry a :time; times are taken from the file order instead (the source's kept as sourceTime)`,
    ]);
  });
});
