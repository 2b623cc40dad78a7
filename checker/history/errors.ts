/**
 * Errors and warnings about history files. A bad input file is reported as a `HistoryError`
 * whose message names the file, the line and the field, e.g.
 * `history.jsonl:17: field "type": expected one of invoke|ok|fail|info, got "done"`,
 * so a CLI can print `error.message` as it is, never a stack trace.
 */

export interface HistoryLocation {
  /** The file as the user named it (printed as given). */
  file: string;
  /** 1-based line number in the file, when known. */
  line?: number;
  /** The event field at fault, when one is. */
  field?: string;
}

function locate({ file, line, field }: HistoryLocation): string {
  const where = line === undefined ? `${file}:` : `${file}:${line}:`;
  return field === undefined ? where : `${where} field "${field}":`;
}

export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  /** What is wrong, without the location. */
  readonly detail: string;

  constructor(location: HistoryLocation, detail: string) {
    super(`${locate(location)} ${detail}`);
    this.file = location.file;
    this.line = location.line;
    this.field = location.field;
    this.detail = detail;
  }
}

export function isHistoryError(e: unknown): e is HistoryError {
  return e instanceof HistoryError;
}

/** Something odd but harmless in a history (e.g. a truncated last line that was dropped). */
export interface HistoryWarning {
  file: string;
  line?: number;
  /** Ready to print: starts with the file and line, like an error's message. */
  message: string;
}

export function historyWarning(
  location: Omit<HistoryLocation, 'field'>,
  detail: string,
): HistoryWarning {
  const warning: HistoryWarning = { file: location.file, message: `${locate(location)} ${detail}` };
  if (location.line !== undefined) warning.line = location.line;
  return warning;
}

/** A short, printable excerpt of a line for error messages. */
export function excerpt(text: string, max = 60): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine);
}
