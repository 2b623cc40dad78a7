/**
 * `loadHistory(file, format)`: any supported history file → well-formed `HistoryEvent[]`.
 * Every problem with the input is a HistoryError whose message names the file (and line).
 */
import { readFile } from 'node:fs/promises';
import {
  detectFormat,
  HISTORY_FORMATS,
  type HistoryFormat,
  type HistoryFormatOption,
  historyFormatOptionSchema,
} from './detect.js';
import { parseEdnHistory } from './edn.js';
import { parseEdnLinesHistory } from './edn-lines.js';
import { HistoryError, type HistoryWarning } from './errors.js';
import type { HistoryEvent } from './event.js';
import type { ImportedHistory } from './imported.js';
import { parseJepsenLogHistory } from './jepsen-log.js';
import { readJsonlHistory } from './jsonl.js';
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
  const asked = historyFormatOptionSchema.safeParse(format);
  if (!asked.success) {
    throw new HistoryError(
      { file },
      `unknown history format ${JSON.stringify(format)}: expected one of auto|${HISTORY_FORMATS.join('|')}`,
    );
  }
  try {
    const chosen = asked.data === 'auto' ? await detectFormat(file) : asked.data;
    if (chosen === 'jsonl') {
      const { events, warnings } = await readJsonlHistory(file);
      return { events, format: chosen, warnings };
    }
    const raw = await readFile(file, 'utf8');
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
  } catch (e) {
    if (e instanceof HistoryError) throw e;
    if (typeof (e as NodeJS.ErrnoException)?.code === 'string') throw fileProblem(file, e);
    throw e;
  }
}
