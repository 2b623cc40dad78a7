/**
 * Jepsen's log lines, as `jepsen.util/log-op` prints them (and as in Porcupine's etcd data):
 *
 *     INFO  jepsen.util - 3	:invoke	:cas	[1 4]
 *
 * i.e. `<process>\t:<type>\t:<f>\t<value>[\t<error>]` after `jepsen.util - `; the value is
 * EDN (`nil`, an integer, `[from to]`, `:timed-out`...). Some published logs have runs of
 * spaces instead of the tabs (`3  :invoke :read  nil`): those are read too, the value and the
 * error then being the first and second EDN forms after the f. Lines that are not op lines
 * (other log output) are ignored. The process is an integer or a keyword (`:nemesis`).
 * The log has no times: they are synthesized from the line order.
 */

import { parseEdnForm, scanEdn } from './edn-forms.js';
import { EdnReader } from './edn-read.js';
import { excerpt, HistoryError, type HistoryWarning, historyWarning } from './errors.js';
import { eventsFromSourceOps, type ImportedHistory, type SourceOp } from './imported.js';

// `jepsen.util - ` (as in Porcupine's data) or `jepsen.util: ` (Jepsen's own log layout).
const OP_LINE = /\bjepsen\.util(?:\s+-|:)\s+(.*)$/;

/**
 * An op line whose fields are separated by spaces (or tabs and spaces): a process (an integer
 * or a keyword), then two keywords (type and f), then the rest. Stricter than the tab layout,
 * which any three tab-separated fields make, since log messages have spaces too.
 */
const SPACED = /^(\d+|:[^\s:]\S*)[ \t]+(:[^\s:]\S*)[ \t]+(:[^\s:]\S*)(?:[ \t]+(.*))?$/;

type Layout = 'tabs' | 'spaces';

/** How the text after `jepsen.util - ` lays out an op, or undefined when it is not an op. */
function layoutOf(rest: string): Layout | undefined {
  const tab = rest.indexOf('\t');
  if (tab >= 0 && rest.indexOf('\t', tab + 1) >= 0) return 'tabs';
  return SPACED.test(rest.trim()) ? 'spaces' : undefined;
}

/** True when the line is a Jepsen op log line (a quick test, used by format detection too). */
export function isJepsenLogOpLine(line: string): boolean {
  const m = OP_LINE.exec(line.replace(/\r$/, ''));
  return m !== null && layoutOf(m[1]!) !== undefined;
}

function keywordName(text: string): string | undefined {
  return /^:[^\s:][^\s]*$/.test(text) ? text.slice(1) : undefined;
}

function parseField(name: string, text: string, file: string, line: number): string {
  const k = keywordName(text.trim());
  if (k === undefined) {
    throw new HistoryError(
      { file, line, field: name },
      `expected a keyword like :${name === 'type' ? 'invoke' : 'read'}, got ${excerpt(text)}`,
    );
  }
  return k;
}

function parseProcess(text: string, file: string, line: number): number | string {
  const p = text.trim();
  if (/^\d+$/.test(p)) return Number(p);
  const k = keywordName(p);
  if (k === undefined) {
    throw new HistoryError(
      { file, line, field: 'process' },
      `expected an integer or a keyword like :nemesis, got ${excerpt(p)}`,
    );
  }
  return k;
}

/** The EDN forms of `text`, or an error naming the field. */
function ednForms(text: string, file: string, line: number, field: string) {
  let scan: ReturnType<typeof scanEdn> | undefined;
  try {
    scan = scanEdn(text, file, line);
  } catch {
    scan = undefined;
  }
  if (scan === undefined || scan.truncated !== undefined) {
    throw new HistoryError({ file, line, field }, `expected one EDN value, got ${excerpt(text)}`);
  }
  return scan.top;
}

function parseValue(text: string, file: string, line: number, field: string): unknown {
  // Most values (nil, an integer, [1 4]) read in one go; anything else the scan below words.
  try {
    const reader = new EdnReader(text);
    const value = reader.next();
    if (value !== undefined && Number.isNaN(reader.skipDiscarded())) return value;
  } catch {
    // worded below
  }
  const forms = ednForms(text, file, line, field);
  if (forms.length !== 1) {
    throw new HistoryError({ file, line, field }, `expected one EDN value, got ${excerpt(text)}`);
  }
  return parseEdnForm(forms[0]!.text, file, line);
}

const MISSING_VALUE = 'missing: expected <process> <type> <f> <value> separated by tabs or spaces';

function opFromLine(rest: string, layout: Layout, file: string, line: number): SourceOp {
  let processText: string;
  let typeText: string;
  let fText: string;
  let valueText: string | undefined;
  let errorText = '';
  if (layout === 'tabs') {
    let errorParts: string[];
    [processText = '', typeText = '', fText = '', valueText, ...errorParts] = rest.split('\t');
    errorText = errorParts.join('\t').trim();
  } else {
    const m = SPACED.exec(rest.trim())!;
    [, processText = '', typeText = '', fText = '', valueText] = m;
  }
  const fields: Record<string, unknown> = {
    process: parseProcess(processText, file, line),
    type: parseField('type', typeText, file, line),
    f: parseField('f', fText, file, line),
  };
  if (valueText === undefined || (layout === 'spaces' && valueText.trim() === '')) {
    throw new HistoryError({ file, line, field: 'value' }, MISSING_VALUE);
  }
  if (layout === 'tabs') {
    fields.value = parseValue(valueText, file, line, 'value');
    if (errorText !== '') fields.error = parseValue(errorText, file, line, 'error');
  } else {
    // The value is the first form after the f; an error, when there is one, the second.
    const forms = ednForms(valueText, file, line, 'value');
    if (forms.length === 0) throw new HistoryError({ file, line, field: 'value' }, MISSING_VALUE);
    if (forms.length > 2) {
      throw new HistoryError(
        { file, line, field: 'error' },
        `expected one EDN value, got ${excerpt(
          forms
            .slice(1)
            .map((f) => f.text)
            .join(' '),
        )}`,
      );
    }
    fields.value = parseEdnForm(forms[0]!.text, file, line);
    if (forms[1] !== undefined) fields.error = parseEdnForm(forms[1].text, file, line);
  }
  return { line, fields };
}

export function parseJepsenLogHistory(text: string, file: string): ImportedHistory {
  const lines = text.split('\n');
  const cleanEnd = text.endsWith('\n');
  const warnings: HistoryWarning[] = [];
  const ops: SourceOp[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    const m = OP_LINE.exec(raw);
    const layout = m === null ? undefined : layoutOf(m[1]!);
    if (layout === undefined) continue;
    try {
      ops.push(opFromLine(m![1]!, layout, file, i + 1));
    } catch (e) {
      if (i === lines.length - 1 && !cleanEnd) {
        warnings.push(
          historyWarning(
            { file, line: i + 1 },
            'the last line is incomplete (no newline, does not parse: a crash mid-write?); ignored',
          ),
        );
        continue;
      }
      throw e;
    }
  }
  if (ops.length === 0 && text.trim() !== '') {
    throw new HistoryError(
      { file },
      'no Jepsen op lines in this log (expected lines like "INFO  jepsen.util - 0<TAB>:invoke<TAB>:read<TAB>nil", tabs or spaces between the fields)',
    );
  }
  return eventsFromSourceOps(ops, file, warnings);
}
