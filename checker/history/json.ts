/**
 * JSON that keeps integers exact. JSON.parse reads every number as a double, so integers
 * beyond 2^53 (64-bit revisions and ids) silently merge with their neighbours. Here an integer
 * literal (no fraction, no exponent) outside the safe range is read as a bigint; everything
 * else is read exactly as JSON.parse reads it. `stringifyJson` writes bigints back as bare
 * integer literals, so that reading the text again gives the same values.
 */

/** Length of the shortest digit run that may be an unsafe integer (2^53 has 16 digits). */
const RUN = 16;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Whether `text` has a run of 16 digits, so may hold an integer literal JSON.parse would round
 * (integer literals with fewer digits are always safe: such text reads the same with JSON.parse).
 * Looks at every 16th character only, as long as those are not digits: a run of 16 covers one
 * of them (a regular expression costs nearly as much as the JSON parse).
 */
export function mayHoldUnsafeInteger(text: string): boolean {
  const n = text.length;
  let i = RUN - 1;
  while (i < n) {
    if (!isDigit(text.charCodeAt(i))) {
      i += RUN;
      continue;
    }
    // Back over the digits ending at i: 16 of them is a run; else a run can end no earlier than
    // 16 past the non-digit found.
    let j = i - 1;
    while (j > i - RUN && isDigit(text.charCodeAt(j))) j--;
    if (j === i - RUN) return true;
    i = j + RUN;
  }
  return false;
}

/** JSON.parse, with unsafe integer literals as bigints. Same errors as JSON.parse. */
export function parseJson(text: string): unknown {
  if (!mayHoldUnsafeInteger(text)) return JSON.parse(text);
  let value: unknown;
  try {
    value = new ExactParser(text).document();
  } catch (e) {
    // JSON.parse words the error (and would say where); this parser only finds that there is one.
    JSON.parse(text);
    throw e;
  }
  return value;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?(?:[eE][+-]?\d+)?/y;

class ExactParser {
  private at = 0;
  constructor(private readonly text: string) {}

  document(): unknown {
    const v = this.value();
    this.space();
    if (this.at !== this.text.length) this.fail();
    return v;
  }

  private fail(): never {
    throw new SyntaxError(`invalid JSON at position ${this.at}`);
  }

  private space(): void {
    const t = this.text;
    let c = t.charCodeAt(this.at);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = t.charCodeAt(++this.at);
  }

  private value(): unknown {
    this.space();
    const t = this.text;
    const c = t[this.at];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    for (const [word, v] of WORDS) {
      if (t.startsWith(word, this.at)) {
        this.at += word.length;
        return v;
      }
    }
    return this.number();
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.at;
    const m = NUMBER.exec(this.text);
    if (m === null) return this.fail();
    const token = m[0];
    this.at += token.length;
    const n = Number(token);
    // Only integer literals: a literal with a fraction or an exponent is a double by intent.
    if (m[1] === undefined && !token.includes('e') && !token.includes('E')) {
      if (!Number.isSafeInteger(n)) return BigInt(token);
    }
    return n;
  }

  private string(): string {
    const t = this.text;
    let i = this.at + 1;
    let plain = true;
    for (;;) {
      const c = t.charCodeAt(i);
      if (Number.isNaN(c)) return this.fail();
      if (c === 34) break;
      if (c === 92) {
        plain = false;
        i += 2;
      } else {
        if (c < 0x20) return this.fail(); // JSON strings hold no raw control characters
        i += 1;
      }
    }
    // With escapes, the token is a complete JSON string: JSON.parse checks and unescapes it.
    const s = plain ? t.slice(this.at + 1, i) : (JSON.parse(t.slice(this.at, i + 1)) as string);
    this.at = i + 1;
    return s;
  }

  private array(): unknown[] {
    this.at++;
    const out: unknown[] = [];
    this.space();
    if (this.text[this.at] === ']') {
      this.at++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const c = this.text[this.at++];
      if (c === ']') return out;
      if (c !== ',') this.fail();
    }
  }

  private object(): Record<string, unknown> {
    this.at++;
    const out: Record<string, unknown> = {};
    this.space();
    if (this.text[this.at] === '}') {
      this.at++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') this.fail();
      const key = this.string();
      this.space();
      if (this.text[this.at++] !== ':') this.fail();
      const v = this.value();
      // As JSON.parse: "__proto__" is an ordinary own property.
      if (key === '__proto__') {
        Object.defineProperty(out, key, {
          value: v,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else out[key] = v;
      this.space();
      const c = this.text[this.at++];
      if (c === '}') return out;
      if (c !== ',') this.fail();
    }
  }
}

const WORDS: readonly (readonly [string, unknown])[] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

/**
 * JSON.stringify, except that a bigint is written as a bare integer literal (JSON.stringify
 * throws on one). Values without bigints cost one JSON.stringify.
 */
export function stringifyJson(value: unknown, space?: number): string | undefined {
  try {
    return JSON.stringify(value, null, space);
  } catch (e) {
    if (!(e instanceof TypeError) || !/BigInt/i.test(e.message)) throw e;
  }
  // Each bigint becomes a string with a random mark, then the quoted mark is replaced by the
  // digits. The count of marks found must be the count of bigints replaced: a string of the
  // value's own that happens to look like a mark makes it try again with another mark.
  for (;;) {
    const mark = `\u0001bigint${Math.random().toString(36).slice(2)}:`;
    let replaced = 0;
    const text = JSON.stringify(
      value,
      (_key, v: unknown) => {
        if (typeof v !== 'bigint') return v;
        replaced++;
        return mark + v.toString();
      },
      space,
    ) as string | undefined;
    if (text === undefined) return undefined;
    const quoted = JSON.stringify(mark).slice(0, -1);
    let found = 0;
    const out = text.replaceAll(new RegExp(`${escapeRegExp(quoted)}(-?\\d+)"`, 'g'), (_m, d) => {
      found++;
      return d as string;
    });
    if (found === replaced) return out;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
