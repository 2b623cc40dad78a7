/**
 * A hand-written EDN value reader for Jepsen histories: one pass over the text, char codes only,
 * no regular expression or intermediate token per atom in the common cases (keywords, small
 * integers, plain strings).
 *
 * It reads values as the importers always have (edn-data with maps as objects, keywords,
 * symbols and characters as strings, lists and sets as arrays, then made plain data):
 * - `nil` → null; `true`/`false`; keywords without their colon; symbols as written;
 * - integers as numbers, or as bigints beyond 2^53 (exact); `N` integers the same way;
 *   floats (an `M` suffix is ignored) as numbers, non-finite ones as their name ("Infinity");
 * - strings with the escapes \t \r \n \b \f \\ \" \uXXXX (any other escape is an error);
 * - characters: \a → "a", \space \newline \return \tab, \uXXXX;
 * - maps as objects whose keys are the keys' text (String of the key read);
 * - `##Inf`, `##-Inf`, `##NaN` as "Infinity", "-Infinity", "NaN" (edn-data read them as a tag
 *   on the form that follows: a Jepsen history's infinite float was garbled);
 * - `#inst "…"` as its ISO string; any other tag as `{tag, val}` (Jepsen's op records
 *   `#jepsen.history.Op{…}` among them); `#_` drops the next form.
 *
 * Structure errors (unbalanced brackets, odd maps) are found by ./edn-forms.ts's scan, which
 * also names their lines; this reader is handed balanced forms.
 */

/** Char codes that end an atom: whitespace, commas, brackets, quotes and comments. */
const DELIMITER = new Uint8Array(128);
for (const c of ' \t\n\r,()[]{}";') DELIMITER[c.charCodeAt(0)] = 1;

const STRING_ESCAPES: Record<string, string> = {
  t: '\t',
  r: '\r',
  n: '\n',
  b: '\b',
  f: '\f',
  '\\': '\\',
  '"': '"',
};

const NAMED_CHARS: Record<string, string> = {
  '\\space': ' ',
  '\\newline': '\n',
  '\\return': '\r',
  '\\tab': '\t',
  '\\\\': '\\',
};

const SYMBOLIC: Record<string, string> = {
  '##Inf': 'Infinity',
  '##-Inf': '-Infinity',
  '##NaN': 'NaN',
};

const INTEGER = /^[-+]?(?:0|[1-9][0-9]*)$/;
const N_INTEGER = /^[-+]?(?:0|[1-9][0-9]*)N$/;
const FLOAT = /^[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?(?:0|[1-9][0-9]*))?M?$/;
const CHAR_CODE = /^\\u[0-9a-fA-F]{4}$/;
const HEX = /^[0-9a-fA-F]{4}$/;

/** Keyword names shared between reads (see EdnReader.keyword). */
const NAMES: (string | undefined)[] = new Array(1024);
const MAX_SHARED_NAME = 32;

/** What `#_` leaves: nothing, skipped by the collection or the caller. */
const NOTHING: unique symbol = Symbol('nothing');
type Read = unknown;

/** A tagged value other than #inst, as the importers have always seen it. */
export interface EdnTagged {
  tag: string;
  val: unknown;
}

/** An integer as a number when it is safe, else exactly, as a bigint. */
function integer(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** A finite number, or a non-finite one's name (results are JSON). */
function plainNumber(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

/** An atom's value: nil, booleans, keywords, numbers, characters, symbols. */
function atomValue(t: string): unknown {
  const c = t.charCodeAt(0);
  if (c === 58 /* : */) return t.slice(1);
  if (c === 92 /* \ */) {
    const named = NAMED_CHARS[t];
    if (named !== undefined) return named;
    if (CHAR_CODE.test(t)) return String.fromCharCode(Number.parseInt(t.slice(2), 16));
    return t.slice(1);
  }
  if (t === 'nil') return null;
  if (t === 'true') return true;
  if (t === 'false') return false;
  if ((c >= 48 && c <= 57) || c === 45 || c === 43) {
    if (INTEGER.test(t)) return integer(t);
    if (FLOAT.test(t)) return plainNumber(Number.parseFloat(t));
    if (N_INTEGER.test(t)) {
      // Through a bigint, as edn-data: -0N is 0.
      const b = BigInt(t.slice(0, -1));
      const n = Number(b);
      return Number.isSafeInteger(n) ? n : b;
    }
  }
  return t;
}

/** A map key as an object key: the text of the value read (as edn-data's objects had it). */
function keyText(k: unknown): string {
  return typeof k === 'string' ? k : String(k);
}

function setKey(o: Record<string, unknown>, key: string, value: unknown): void {
  // "__proto__" is an ordinary own property, not the prototype.
  if (key === '__proto__') {
    Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  } else o[key] = value;
}

export class EdnSyntaxError extends Error {
  override name = 'EdnSyntaxError';
}

/** Reads EDN values from `text`, starting at `at`. */
export class EdnReader {
  at: number;
  constructor(
    private readonly text: string,
    at = 0,
  ) {
    this.at = at;
  }

  /** Skips whitespace, commas and comments; the char code at the new position (NaN at the end). */
  skip(): number {
    const t = this.text;
    let i = this.at;
    for (;;) {
      const c = t.charCodeAt(i);
      if (c === 32 || c === 44 || c === 10 || c === 13 || c === 9) i++;
      else if (c === 59 /* ; */) {
        const nl = t.indexOf('\n', i);
        i = nl < 0 ? t.length : nl + 1;
      } else {
        this.at = i;
        return c;
      }
    }
  }

  /** The next value (a discarded form is skipped); undefined at the end of the text. */
  next(): unknown {
    for (;;) {
      if (Number.isNaN(this.skip())) return undefined;
      const v = this.read();
      if (v !== NOTHING) return v;
    }
  }

  private fail(message: string): never {
    throw new EdnSyntaxError(message);
  }

  /** One form at the current position (whitespace skipped): its value, or NOTHING for `#_`. */
  private read(): Read {
    const t = this.text;
    const c = this.skip();
    switch (c) {
      case 123 /* { */:
        this.at++;
        return this.map();
      case 91 /* [ */:
        this.at++;
        return this.sequence(93);
      case 40 /* ( */:
        this.at++;
        return this.sequence(41);
      case 34 /* " */:
        return this.string();
      case 58 /* : */:
        return this.keyword();
      case 35 /* # */:
        {
          const d = t.charCodeAt(this.at + 1);
          if (d === 123 /* { */) {
            this.at += 2;
            return this.sequence(125);
          }
          if (d === 95 /* _ */) {
            this.at += 2;
            this.value();
            return NOTHING;
          }
          if (d === 35 /* # */) return this.symbolic();
          return this.tagged();
        }
      default:
        if (Number.isNaN(c)) return this.fail('unexpected end of input');
        if (c === 41 || c === 93 || c === 125) return this.fail(`unexpected "${t[this.at]}"`);
        return this.atom(c);
    }
  }

  /** A form that must yield a value (after a tag, or the form `#_` drops). */
  private value(): unknown {
    for (;;) {
      const v = this.read();
      if (v !== NOTHING) return v;
    }
  }

  /**
   * A keyword's name. A history repeats a handful of keywords a million times: each is one
   * shared string (found by a hash of its chars), not a new one per op, which also spares the
   * engine making each map key unique again.
   */
  private keyword(): string {
    const t = this.text;
    const start = this.at + 1;
    let h = 0;
    let i = start;
    for (; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c < 128 && DELIMITER[c] === 1) break;
      h = (Math.imul(h, 31) + c) | 0;
    }
    this.at = i;
    const length = i - start;
    if (length > MAX_SHARED_NAME) return t.slice(start, i);
    const slot = (h ^ (h >>> 11)) & (NAMES.length - 1);
    const known = NAMES[slot];
    if (known !== undefined && known.length === length && t.startsWith(known, start)) return known;
    const name = t.slice(start, i);
    NAMES[slot] = name;
    return name;
  }

  private atomEnd(from: number): number {
    const t = this.text;
    let i = from;
    for (let c = t.charCodeAt(i); i < t.length; c = t.charCodeAt(++i)) {
      if (c < 128 && DELIMITER[c] === 1) break;
    }
    return i;
  }

  private atom(c: number): unknown {
    const t = this.text;
    const start = this.at;
    // A character literal takes the char after its backslash whatever it is.
    const end = this.atomEnd(c === 92 ? start + 2 : start + 1);
    this.at = end;
    // Fast path: a short decimal integer (the bulk of a history's numbers).
    if (c >= 48 && c <= 57 && end - start <= 15) {
      let n = c - 48;
      let i = start + 1;
      if (c !== 48 || end - start === 1) {
        for (; i < end; i++) {
          const d = t.charCodeAt(i);
          if (d < 48 || d > 57) break;
          n = n * 10 + (d - 48);
        }
        if (i === end) return n;
      }
    }
    return atomValue(t.slice(start, end));
  }

  /** `##Inf`, `##-Inf`, `##NaN`: numbers, named as results name them ("Infinity"…). */
  private symbolic(): string {
    const start = this.at;
    const end = this.atomEnd(start + 2);
    this.at = end;
    const name = SYMBOLIC[this.text.slice(start, end)];
    if (name === undefined)
      return this.fail(`unknown symbolic value ${this.text.slice(start, end)}`);
    return name;
  }

  private tagged(): unknown {
    const start = this.at;
    const end = this.atomEnd(start + 1);
    const tag = this.text.slice(start + 1, end);
    this.at = end;
    const val = this.value();
    if (tag === 'inst') {
      if (typeof val !== 'string') return this.fail('#inst value must be a string');
      // An invalid date throws its RangeError here, as it always has.
      return new Date(val).toISOString();
    }
    return { tag, val } satisfies EdnTagged;
  }

  private sequence(close: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const c = this.skip();
      if (c === close) {
        this.at++;
        return out;
      }
      if (Number.isNaN(c)) return this.fail('unexpected end of input');
      const v = this.read();
      if (v !== NOTHING) out.push(v);
    }
  }

  private map(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let key: string | undefined;
    for (;;) {
      const c = this.skip();
      if (c === 125 /* } */) {
        this.at++;
        if (key !== undefined) return this.fail('a map key without a value');
        return out;
      }
      if (Number.isNaN(c)) return this.fail('unexpected end of input');
      const v = this.read();
      if (v === NOTHING) continue;
      if (key === undefined) key = keyText(v);
      else {
        setKey(out, key, v);
        key = undefined;
      }
    }
  }

  private string(): string {
    const t = this.text;
    const start = this.at + 1;
    let i = start;
    for (;;) {
      const c = t.charCodeAt(i);
      if (c === 34) {
        this.at = i + 1;
        return t.slice(start, i);
      }
      if (c === 92) break;
      if (Number.isNaN(c)) return this.fail('a string is never closed');
      i++;
    }
    // With escapes: built piece by piece.
    let out = t.slice(start, i);
    for (;;) {
      const c = t.charCodeAt(i);
      if (Number.isNaN(c)) return this.fail('a string is never closed');
      if (c === 34) {
        this.at = i + 1;
        return out;
      }
      if (c !== 92) {
        const from = i;
        while (i < t.length && t.charCodeAt(i) !== 34 && t.charCodeAt(i) !== 92) i++;
        out += t.slice(from, i);
        continue;
      }
      const e = t[i + 1];
      if (e === undefined) return this.fail('a string is never closed');
      if (e === 'u') {
        const hex = t.slice(i + 2, i + 6);
        if (!HEX.test(hex)) {
          let k = 0;
          while (k < hex.length && /[0-9a-fA-F]/.test(hex[k]!)) k++;
          return this.fail(`Invalid unicode escape: \\u${hex.slice(0, k + 1)}`);
        }
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
        continue;
      }
      const escaped = STRING_ESCAPES[e];
      if (escaped === undefined) return this.fail(`Unexpected escape character: \\${e}`);
      out += escaped;
      i += 2;
    }
  }

  /** The source `:time` of the op map last read by `opMap` (undefined: it had none). */
  opTime: unknown;

  /**
   * The op map at the current position (whitespace skipped), a map or a tagged map (Jepsen's
   * `#jepsen.history.Op{…}`, whose tag is dropped), laid out as an event: `index` and `time`
   * first (to be filled in), then the other fields as they come. The source's `:index` is
   * dropped and its `:time` left in `opTime`. Undefined, with the position unknown, for any other
   * form; throws on malformed EDN.
   */
  opMap(): Record<string, unknown> | undefined {
    const t = this.text;
    let c = t.charCodeAt(this.at);
    if (c === 35 /* # */) {
      const d = t.charCodeAt(this.at + 1);
      if (d === 123 || d === 95 || d === 35) return undefined;
      const end = this.atomEnd(this.at + 1);
      if (t.slice(this.at + 1, end) === 'inst') return undefined;
      this.at = end;
      c = this.skip();
    }
    if (c !== 123 /* { */) return undefined;
    this.at++;
    const out: Record<string, unknown> = { index: 0, time: 0 };
    let time: unknown;
    let key: string | undefined;
    for (;;) {
      const c = this.skip();
      if (c === 125 /* } */) {
        this.at++;
        if (key !== undefined) return this.fail('a map key without a value');
        this.opTime = time;
        return out;
      }
      if (Number.isNaN(c)) return this.fail('unexpected end of input');
      const v = this.read();
      if (v === NOTHING) continue;
      if (key === undefined) key = keyText(v);
      else {
        if (key === 'time') time = v;
        else if (key !== 'index') setKey(out, key, v);
        key = undefined;
      }
    }
  }

  /** Skips `#_` forms; the char code of the next form (NaN at the end). */
  skipDiscarded(): number {
    for (;;) {
      const c = this.skip();
      if (c !== 35 || this.text.charCodeAt(this.at + 1) !== 95) return c;
      this.at += 2;
      this.value();
    }
  }
}

/** The op maps of a history (see EdnReader.opMap), their source times and where each starts. */
export interface OpMaps {
  maps: Record<string, unknown>[];
  times: unknown[];
  starts: number[];
}

/**
 * The op maps of a whole Jepsen history in one pass: a vector (or list) of op maps, or op maps
 * one after another; with `onePerLine`, each on a line of its own. Undefined for anything else
 * (a form that is not an op map, text after the vector, a map spread over lines, malformed or
 * cut-off EDN): the caller then reads the history form by form, which words the problem.
 */
export function readOpMaps(text: string, onePerLine: boolean): OpMaps | undefined {
  const r = new EdnReader(text);
  const maps: Record<string, unknown>[] = [];
  const times: unknown[] = [];
  const starts: number[] = [];
  try {
    // One map per line: `#_` is left to the careful reader (a dropped form may span lines).
    const next = () => (onePerLine ? r.skip() : r.skipDiscarded());
    let c = next();
    const inVector = !onePerLine && (c === 91 || c === 40);
    const close = c === 91 ? 93 : 41;
    if (inVector) r.at++;
    for (;;) {
      c = next();
      if (inVector && c === close) {
        r.at++;
        return Number.isNaN(r.skipDiscarded()) ? { maps, times, starts } : undefined;
      }
      if (Number.isNaN(c)) return inVector ? undefined : { maps, times, starts };
      const start = r.at;
      const map = r.opMap();
      if (map === undefined) return undefined;
      if (onePerLine && !restOfLineBlank(text, start, r.at)) return undefined;
      maps.push(map);
      times.push(r.opTime);
      starts.push(start);
    }
  } catch {
    return undefined;
  }
}

/**
 * Whether the form from `start` to `end` lies on one line with nothing after it on that line
 * but blanks, commas or a comment.
 */
function restOfLineBlank(text: string, start: number, end: number): boolean {
  const nl = text.indexOf('\n', start);
  if (nl >= 0 && nl < end) return false;
  let j = end;
  let c = text.charCodeAt(j);
  while (c === 32 || c === 9 || c === 44 || c === 13) c = text.charCodeAt(++j);
  return Number.isNaN(c) || c === 10 || c === 59;
}

/** 1-based line numbers of the ascending offsets `starts` of `text`. */
export function linesAt(text: string, starts: readonly number[]): number[] {
  const lines = new Array<number>(starts.length);
  let line = 1;
  let nl = text.indexOf('\n');
  for (let k = 0; k < starts.length; k++) {
    const at = starts[k]!;
    while (nl >= 0 && nl < at) {
      line++;
      nl = text.indexOf('\n', nl + 1);
    }
    lines[k] = line;
  }
  return lines;
}

/** The first EDN value of `text` (null when it has none), as plain data. */
export function readEdnValue(text: string): unknown {
  const v = new EdnReader(text).next();
  return v === undefined ? null : v;
}
