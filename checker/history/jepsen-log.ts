/**
 * Jepsen's log lines, as `jepsen.util/log-op` prints them (and as in Porcupine's etcd data):
 *
 *     INFO  jepsen.util - 3	:invoke	:cas	[1 4]
 *
 * i.e. `<process>\t:<type>\t:<f>\t<value>[\t<error>]` after `jepsen.util - `; the value is
 * EDN (`nil`, an integer, `[from to]`, `:timed-out`...). Lines that are not op lines (other
 * log output) are ignored. The process is an integer or a keyword (`:nemesis`).
 * The log has no times: they are synthesized from the line order.
 */

import { parseEdnForm, scanEdn } from './edn-forms.js';
import { excerpt, HistoryError, type HistoryWarning, historyWarning } from './errors.js';
import { eventsFromSourceOps, type ImportedHistory, type SourceOp } from './imported.js';

// `jepsen.util - ` (as in Porcupine's data) or `jepsen.util: ` (Jepsen's own log layout).
const OP_LINE = /\bjepsen\.util(?:\s+-|:)\s+(.*)$/;

/** True when the line is a Jepsen op log line (a quick test, used by format detection too). */
export function isJepsenLogOpLine(line: string): boolean {
  const m = OP_LINE.exec(line);
  return m !== null && m[1]!.split('\t').length >= 3;
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

function parseValue(text: string, file: string, line: number, field: string): unknown {
  let scan: ReturnType<typeof scanEdn> | undefined;
  try {
    scan = scanEdn(text, file, line);
  } catch {
    scan = undefined;
  }
  if (scan === undefined || scan.truncated !== undefined || scan.top.length !== 1) {
    throw new HistoryError({ file, line, field }, `expected one EDN value, got ${excerpt(text)}`);
  }
  return parseEdnForm(scan.top[0]!.text, file, line);
}

function opFromLine(rest: string, file: string, line: number): SourceOp {
  const [processText = '', typeText = '', fText = '', valueText, ...errorParts] = rest.split('\t');
  const p = processText.trim();
  let process: number | string;
  if (/^\d+$/.test(p)) process = Number(p);
  else {
    const k = keywordName(p);
    if (k === undefined) {
      throw new HistoryError(
        { file, line, field: 'process' },
        `expected an integer or a keyword like :nemesis, got ${excerpt(p)}`,
      );
    }
    process = k;
  }
  const fields: Record<string, unknown> = {
    process,
    type: parseField('type', typeText, file, line),
    f: parseField('f', fText, file, line),
  };
  if (valueText === undefined) {
    throw new HistoryError(
      { file, line, field: 'value' },
      'missing: expected <process> <type> <f> <value> separated by tabs',
    );
  }
  fields.value = parseValue(valueText, file, line, 'value');
  const errorText = errorParts.join('\t').trim();
  if (errorText !== '') fields.error = parseValue(errorText, file, line, 'error');
  return { line, fields };
}

export function parseJepsenLogHistory(text: string, file: string): ImportedHistory {
  const lines = text.split('\n');
  const cleanEnd = text.endsWith('\n');
  const warnings: HistoryWarning[] = [];
  const ops: SourceOp[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const m = OP_LINE.exec(raw);
    if (m === null || m[1]!.split('\t').length < 3) continue;
    try {
      ops.push(opFromLine(m[1]!, file, i + 1));
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
      'no Jepsen op lines in this log (expected lines like "INFO  jepsen.util - 0<TAB>:invoke<TAB>:read<TAB>nil")',
    );
  }
  return eventsFromSourceOps(ops, file, warnings);
}
