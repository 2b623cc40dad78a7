/**
 * Jepsen `history.edn`: a vector (or list) of op maps, or op maps one after another (one per
 * line, or spread over several lines); `;` comments; extra keys such as `:error` are kept.
 * `{:process 0, :type :invoke, :f :cas, :value [1 2]}` → `{process: 0, type: 'invoke', f: 'cas',
 * value: [1, 2]}`; `:process :nemesis` → `"nemesis"`. Values are read by ./edn-read.ts; ./edn-forms.ts
 * finds each op's line.
 */

import { type EdnForm, parseEdnForm, scanEdn } from './edn-forms.js';
import { linesAt, readOpMaps } from './edn-read.js';
import { excerpt, HistoryError, type HistoryWarning, historyWarning } from './errors.js';
import {
  eventsFromOpMaps,
  eventsFromSourceOps,
  type ImportedHistory,
  type SourceOp,
} from './imported.js';

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One op map. Newer Jepsen writes ops as tagged records, `#jepsen.history.Op{:index 0, ...}`:
 * the tag is dropped and the map read as any other.
 */
export function opFromForm(form: EdnForm, file: string): SourceOp {
  const value = parseEdnForm(form.text, file, form.line);
  if (form.opener === '{' && isMap(value)) return { line: form.line, fields: value };
  if (
    form.text.startsWith('#') &&
    isMap(value) &&
    typeof value.tag === 'string' &&
    isMap(value.val)
  ) {
    return { line: form.line, fields: value.val };
  }
  throw new HistoryError(
    { file, line: form.line },
    `expected an op map like {:process 0, :type :invoke, :f :read}, got ${excerpt(form.text)}`,
  );
}

/**
 * A Jepsen history read in one pass (./edn-read.ts's readOpMaps), or, when that finds anything
 * amiss, form by form, which words the problem and names its line.
 */
export function parseEdnHistory(text: string, file: string): ImportedHistory {
  const fast = readOpMaps(text, false);
  if (fast !== undefined)
    return eventsFromOpMaps(fast.maps, fast.times, linesAt(text, fast.starts), file);
  return parseEdnHistoryByForm(text, file);
}

/** The history read form by form: each op located by a scan first, then read on its own. */
export function parseEdnHistoryByForm(text: string, file: string): ImportedHistory {
  const scan = scanEdn(text, file);
  const warnings: HistoryWarning[] = [];
  const first = scan.top[0];
  let forms: EdnForm[];
  if (first !== undefined && (first.opener === '[' || first.opener === '(')) {
    const extra = scan.top[1];
    if (extra !== undefined) {
      throw new HistoryError(
        { file, line: extra.line },
        `expected nothing after the vector of ops that starts at line ${first.line}, got ${excerpt(extra.text)}`,
      );
    }
    forms = scan.inner;
  } else {
    forms = scan.top;
  }
  if (scan.truncated !== undefined) {
    warnings.push(
      historyWarning(
        { file, line: scan.truncated.line },
        'the last op map is incomplete (no newline, never closed: a crash mid-write?); ignored',
      ),
    );
  }
  return eventsFromSourceOps(
    forms.map((f) => opFromForm(f, file)),
    file,
    warnings,
  );
}
