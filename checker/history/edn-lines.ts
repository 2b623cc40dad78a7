/**
 * One EDN op map per line, as in Porcupine's kv data:
 * `{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}`. Blank lines and `;`
 * comment lines are skipped. A last line without a newline that is not a complete map (a crash
 * mid-write) is dropped with a warning.
 */

import { opFromForm } from './edn.js';
import { scanEdn } from './edn-forms.js';
import { linesAt, readOpMaps } from './edn-read.js';
import { excerpt, HistoryError, type HistoryWarning, historyWarning } from './errors.js';
import {
  eventsFromOpMaps,
  eventsFromSourceOps,
  type ImportedHistory,
  type SourceOp,
} from './imported.js';

/** Read in one pass (./edn-read.ts), or, when that finds anything amiss, line by line. */
export function parseEdnLinesHistory(text: string, file: string): ImportedHistory {
  const fast = readOpMaps(text, true);
  if (fast !== undefined)
    return eventsFromOpMaps(fast.maps, fast.times, linesAt(text, fast.starts), file);
  return parseEdnLinesByLine(text, file);
}

/** Each line on its own: what is wrong with a line is named with its number. */
export function parseEdnLinesByLine(text: string, file: string): ImportedHistory {
  const lines = text.split('\n');
  const cleanEnd = text.endsWith('\n');
  const warnings: HistoryWarning[] = [];
  const ops: SourceOp[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const body = lines[i]!.trim();
    if (body === '' || body.startsWith(';')) continue;
    const isLast = i === lines.length - 1;
    let scan: ReturnType<typeof scanEdn>;
    try {
      scan = scanEdn(body, file, lineNo);
    } catch (e) {
      if (isLast && !cleanEnd) {
        warnings.push(truncatedWarning(file, lineNo));
        continue;
      }
      throw e;
    }
    if (scan.truncated !== undefined) {
      if (isLast && !cleanEnd) {
        warnings.push(truncatedWarning(file, lineNo));
        continue;
      }
      throw new HistoryError(
        { file, line: lineNo },
        `the op map is never closed on its line (one map per line expected)`,
      );
    }
    const [form, extra] = scan.top;
    if (form === undefined) continue; // only a comment
    if (extra !== undefined) {
      throw new HistoryError(
        { file, line: lineNo },
        `expected one op map per line, got more after it: ${excerpt(extra.text)}`,
      );
    }
    ops.push(opFromForm(form, file));
  }
  return eventsFromSourceOps(ops, file, warnings);
}

function truncatedWarning(file: string, line: number): HistoryWarning {
  return historyWarning(
    { file, line },
    'the last line is incomplete (no newline, not a complete map: a crash mid-write?); ignored',
  );
}
