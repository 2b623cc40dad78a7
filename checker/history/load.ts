/**
 * `loadHistory(file, format)`: any supported history file → well-formed `HistoryEvent[]`.
 * Every problem with the input is a HistoryError whose message names the file (and line).
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  detectFormat,
  detectFormatFromBytes,
  HISTORY_FORMATS,
  type HistoryFormat,
  type HistoryFormatOption,
  isHistoryFormatOption,
} from './detect-format.js';
import { parseEdnHistory } from './edn.js';
import { parseEdnLinesHistory } from './edn-lines.js';
import { HistoryError, type HistoryWarning } from './errors.js';
import type { HistoryEvent } from './event.js';
import type { ImportedHistory } from './imported.js';
import { parseJepsenLogHistory } from './jepsen-log.js';
import { parseJsonlHistory, readJsonlHistory } from './jsonl.js';
import { checkWellFormed } from './well-formed.js';

export interface LoadedHistory {
  events: HistoryEvent[];
  format: HistoryFormat;
  warnings: HistoryWarning[];
}

const IMPORTERS: Record<
  Exclude<HistoryFormat, 'jsonl'>,
  (text: string, file: string) => ImportedHistory
> = {
  edn: parseEdnHistory,
  'edn-lines': parseEdnLinesHistory,
  'jepsen-log': parseJepsenLogHistory,
};

/**
 * Files up to this size are read whole, at once: for the small histories users check most, the
 * round trips of asynchronous reads (a format sniff, then the file) cost more than the reading.
 */
const READ_AT_ONCE_BYTES = 8 << 20;

function fileProblem(file: string, e: unknown): HistoryError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === 'ENOENT'
      ? 'no such file'
      : err.code === 'EISDIR'
        ? 'is a directory, not a history file'
        : err.code === 'EACCES'
          ? 'permission denied'
          : (err.message ?? String(e));
  return new HistoryError({ file }, `cannot read the history: ${why}`);
}

/**
 * Reads a history in the given format ('auto': told from its content, then its name), checks
 * its well-formedness and returns its events. Our own JSONL treats a process id reused after
 * `info` as an error; imported Jepsen histories accept it with a warning.
 */
export async function loadHistory(
  file: string,
  format: HistoryFormatOption = 'auto',
): Promise<LoadedHistory> {
  if (!isHistoryFormatOption(format)) {
    throw new HistoryError(
      { file },
      `unknown history format ${JSON.stringify(format)}: expected one of auto|${HISTORY_FORMATS.join('|')}`,
    );
  }
  try {
    if (statSync(file).size <= READ_AT_ONCE_BYTES) {
      const bytes = readFileSync(file);
      const chosen = format === 'auto' ? detectFormatFromBytes(file, bytes) : format;
      if (chosen === 'jsonl') {
        const { events, warnings } = parseJsonlHistory(bytes, file);
        return { events, format: chosen, warnings };
      }
      return importHistory(bytes.toString('utf8'), file, chosen);
    }
    const chosen = format === 'auto' ? await detectFormat(file) : format;
    if (chosen === 'jsonl') {
      const { events, warnings } = await readJsonlHistory(file);
      return { events, format: chosen, warnings };
    }
    return importHistory(await readFile(file, 'utf8'), file, chosen);
  } catch (e) {
    if (e instanceof HistoryError) throw e;
    if (typeof (e as NodeJS.ErrnoException)?.code === 'string') throw fileProblem(file, e);
    throw e;
  }
}

/** A Jepsen history (EDN, EDN lines, log lines) read from its text and checked. */
function importHistory(
  raw: string,
  file: string,
  chosen: Exclude<HistoryFormat, 'jsonl'>,
): LoadedHistory {
  const text = raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
  const imported = IMPORTERS[chosen](text, file);
  const warnings = [
    ...imported.warnings,
    ...checkWellFormed(imported.events, {
      file,
      lines: imported.lines,
      retiredProcesses: 'warn',
    }),
  ];
  return { events: imported.events, format: chosen, warnings };
}
