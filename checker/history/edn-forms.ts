/**
 * Finds where each top-level EDN form (and each element of a top-level vector or list) starts
 * and ends, with its line, so that every op map can be parsed on its own (./edn-read.ts) and an
 * error can name its line. This scan is where unbalanced brackets, unterminated strings and odd
 * maps are caught, before any value is read.
 */
import { readEdnValue } from './edn-read.js';
import { HistoryError } from './errors.js';

export interface EdnForm {
  /** Source text of the form. */
  text: string;
  /** 1-based line where it starts. */
  line: number;
  /** '{', '[', '(', '#{' for collections; '' for atoms, strings and tagged values. */
  opener: string;
}

export interface EdnScan {
  /** Forms at the top level of the text. */
  top: EdnForm[];
  /** Elements of top-level collections, in order (the ops of a `[...]` history). */
  inner: EdnForm[];
  /**
   * A top-level form left open at the end of a text that does not end in a newline, when no
   * other collection is open: what a crash mid-write leaves. Not included in `top`.
   */
  truncated?: { line: number };
}

interface Open {
  opener: string;
  line: number;
  start: number;
  /** Forms started directly inside (counted for maps only). */
  forms: number;
}

const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}', '#{': '}' };
/** Char codes that end an atom. */
const DELIMITER = new Uint8Array(128);
for (const c of ' \t\n\r,()[]{}";') DELIMITER[c.charCodeAt(0)] = 1;

/** `firstLine`: the line number of the text's first line in its file. */
export function scanEdn(text: string, file: string, firstLine = 1): EdnScan {
  const top: EdnForm[] = [];
  const inner: EdnForm[] = [];
  const stack: Open[] = [];
  let line = firstLine;
  let i = 0;
  // A form at depth 0 or 1 that has started: where, and on which line.
  const starts: ({ start: number; line: number; opener: string } | undefined)[] = [];
  // Depths at which a tag (#inst, #uuid...) waits for its value, which belongs to the same form.
  const tagged = new Set<number>();

  const fail = (at: number, detail: string): never => {
    throw new HistoryError({ file, line: at }, detail);
  };
  const begin = (opener: string) => {
    const depth = stack.length;
    const parent = stack[depth - 1];
    if (tagged.has(depth)) {
      tagged.delete(depth);
      return;
    }
    if (parent !== undefined && parent.opener === '{') parent.forms += 1;
    const vectorOfOps = depth === 1 && (stack[0]!.opener === '[' || stack[0]!.opener === '(');
    if (depth === 0 || vectorOfOps) starts[depth] = { start: i, line, opener };
  };
  const end = (endAt: number) => {
    const depth = stack.length;
    if (tagged.has(depth)) return; // the tag's value is still to come
    const s = starts[depth];
    if (depth > 1 || s === undefined) return;
    (depth === 0 ? top : inner).push({
      text: text.slice(s.start, endAt),
      line: s.line,
      opener: s.opener,
    });
    starts[depth] = undefined;
  };

  let unclosedString: number | undefined;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line += 1;
      i += 1;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === ',') {
      i += 1;
    } else if (c === ';') {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if (c === '"') {
      begin('');
      const startLine = line;
      i += 1;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i += 1;
        else if (text[i] === '\n') line += 1;
        i += 1;
      }
      if (i >= text.length) {
        unclosedString = startLine;
        break;
      }
      i += 1;
      end(i);
    } else if (c === '(' || c === '[' || c === '{' || (c === '#' && text[i + 1] === '{')) {
      const opener = c === '#' ? '#{' : c;
      begin(opener);
      stack.push({ opener, line, start: i, forms: 0 });
      i += opener.length;
    } else if (c === ')' || c === ']' || c === '}') {
      const open = stack.pop();
      if (open === undefined) fail(line, `unexpected "${c}" with nothing open`);
      else {
        if (CLOSERS[open.opener] !== c) {
          fail(line, `"${c}" does not close the "${open.opener}" opened at line ${open.line}`);
        }
        if (open.opener === '{' && open.forms % 2 !== 0) {
          fail(open.line, 'a map here has a key without a value (an odd number of forms)');
        }
      }
      i += 1;
      end(i);
    } else if (c === '#' && text[i + 1] === '_') {
      // Discard: the next form is skipped by the parser; it counts for nothing here either.
      i += 2;
      tagged.add(stack.length);
    } else {
      // An atom (number, keyword, symbol, nil, char literal) or a tag such as #inst.
      const isTag = c === '#' && text[i + 1] !== '#';
      begin('');
      if (c === '\\') {
        // a char literal: \a, \(, \newline..., or a backslash before a raw line break
        if (text[i + 1] === '\n') line += 1;
        i += 2;
      } else i += 1;
      for (let code = text.charCodeAt(i); i < text.length; code = text.charCodeAt(i)) {
        if (code < 128 && DELIMITER[code] === 1) break;
        i += 1;
      }
      if (isTag) tagged.add(stack.length);
      else end(i);
    }
  }
  const outer = stack[0];
  if (outer === undefined) {
    if (unclosedString === undefined) return { top, inner };
    return fail(unclosedString, 'a string opened here is never closed');
  }
  // A one-map-per-line history cut off in its last line, as a crash mid-write leaves it.
  if (outer.opener === '{' && outer.line === line && !text.endsWith('\n')) {
    return { top, inner, truncated: { line: outer.line } };
  }
  if (unclosedString !== undefined)
    return fail(unclosedString, 'a string opened here is never closed');
  const last = stack[stack.length - 1]!;
  return fail(last.line, `"${last.opener}" opened here is never closed`);
}

/** Parses one balanced EDN form into plain data (keywords → strings, nil → null, lists → arrays). */
export function parseEdnForm(form: string, file: string, line: number): unknown {
  try {
    return readEdnValue(form);
  } catch (e) {
    throw new HistoryError({ file, line }, `invalid EDN (${(e as Error).message})`);
  }
}
