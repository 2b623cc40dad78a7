/**
 * The EDN reader (./edn-read.ts) against edn-data, which the importers used before it: on
 * generated EDN of every kind a Jepsen history holds, and on every form of every EDN reference
 * history in ../shared/testdata (read in place). The reference pipeline below is how the
 * importers read a form with edn-data: unsafe integers marked with `N` first (edn-data reads
 * plain integers with parseInt), then its result made plain data.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEDNString } from 'edn-data';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEdnHistory, parseEdnHistoryByForm } from './edn.js';
import { type EdnForm, scanEdn } from './edn-forms.js';
import { parseEdnLinesByLine, parseEdnLinesHistory } from './edn-lines.js';
import { readEdnValue, readOpMaps } from './edn-read.js';
import { mayHoldUnsafeInteger } from './json.js';

const DELIMITER = new Uint8Array(128);
for (const c of ' \t\n\r,()[]{}";') DELIMITER[c.charCodeAt(0)] = 1;
const INTEGER = /^[-+]?(?:0|[1-9]\d*)$/;

/** Each integer atom beyond 2^53 gets an `N`, so that edn-data reads it as a bigint. */
function markBigIntegers(form: string): string {
  if (!mayHoldUnsafeInteger(form)) return form;
  let out = '';
  let from = 0;
  let i = 0;
  while (i < form.length) {
    const c = form[i]!;
    if (c === '"') {
      for (i++; i < form.length && form[i] !== '"'; i++) if (form[i] === '\\') i++;
      i++;
    } else if (c === ';') {
      while (i < form.length && form[i] !== '\n') i++;
    } else if (c.charCodeAt(0) < 128 && DELIMITER[c.charCodeAt(0)] === 1) {
      i++;
    } else {
      const start = i;
      i += c === '\\' ? 2 : 1;
      for (let code = form.charCodeAt(i); i < form.length; code = form.charCodeAt(++i)) {
        if (code < 128 && DELIMITER[code] === 1) break;
      }
      const atom = form.slice(start, i);
      if (INTEGER.test(atom) && !Number.isSafeInteger(Number(atom))) {
        out += `${form.slice(from, i)}N`;
        from = i;
      }
    }
  }
  return out + form.slice(from);
}

/** edn-data's result as plain data: no Dates, non-finite numbers or undefined; safe bigints as numbers. */
function toPlainData(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object') {
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    return v;
  }
  if (Array.isArray(v)) return v.map(toPlainData);
  if (v instanceof Date) return v.toISOString();
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) o[k] = toPlainData(o[k]);
  return o;
}

function viaEdnData(form: string): unknown {
  return toPlainData(
    parseEDNString(markBigIntegers(form), {
      mapAs: 'object',
      keywordAs: 'string',
      symbolAs: 'string',
      charAs: 'string',
      listAs: 'array',
      setAs: 'array',
    }),
  );
}

/** Both readers on one form: the same value, or both failing with the same message. */
function outcome(read: () => unknown): { value: unknown } | { error: string } {
  try {
    return { value: read() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

// --- Generated EDN -------------------------------------------------------------------------

const nameChar = fc.constantFrom(...'abcdefxyz0123456789-_.?!*+<>='.split(''));
const name = fc
  .tuple(fc.constantFrom(...'abcxyzABC*!?'.split('')), fc.array(nameChar, { maxLength: 8 }))
  .map(([a, rest]) => a + rest.join(''));
const keyword = fc.oneof(
  name.map((n) => `:${n}`),
  fc.tuple(name, name).map(([ns, n]) => `:${ns}/${n}`),
  fc.constantFrom(':invoke', ':ok', ':fail', ':info', ':nemesis', ':read', ':cas'),
);
const symbol = fc.oneof(
  name.filter((n) => !['nil', 'true', 'false'].includes(n)),
  fc.constantFrom('-', '+', 'a/b', 'foo.bar/baz'),
);
const sign = fc.constantFrom('', '-', '+');
const integer = fc.oneof(
  fc.integer().map(String),
  fc.nat({ max: 9 }).map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.tuple(sign, fc.bigInt({ min: 0n, max: 2n ** 66n })).map(([s, n]) => `${s}${n}`),
  fc.tuple(sign, fc.bigInt({ min: 0n, max: 2n ** 66n })).map(([s, n]) => `${s}${n}N`),
  fc.constantFrom('0', '-0', '+0', '9007199254740991', '9007199254740992', '-9007199254740993'),
);
const float = fc.oneof(
  fc
    .tuple(
      sign,
      fc.nat({ max: 100000 }),
      fc.option(fc.nat({ max: 99999 }), { nil: undefined }),
      fc.option(fc.integer({ min: -400, max: 400 }), { nil: undefined }),
      fc.boolean(),
    )
    .map(
      ([s, a, b, e, m]) =>
        `${s}${a}${b === undefined ? '' : `.${b}`}${e === undefined ? '' : `e${e}`}${m ? 'M' : ''}`,
    ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d).replace('e+', 'e')),
);
const stringEscape = fc.constantFrom(
  '\\n',
  '\\t',
  '\\r',
  '\\b',
  '\\f',
  '\\\\',
  '\\"',
  '\\u0041',
  '\\u00e9',
);
const stringPart = fc.oneof(
  fc.string({ maxLength: 6 }).map((s) => s.replaceAll('\\', '').replaceAll('"', '')),
  stringEscape,
  fc.constantFrom(';', '[', '}', '#_', ',', '\n', 'é', '😀', ':a'),
);
const string = fc.array(stringPart, { maxLength: 5 }).map((parts) => `"${parts.join('')}"`);
const char = fc.oneof(
  fc.constantFrom('\\a', '\\Z', '\\5', '\\space', '\\newline', '\\return', '\\tab', '\\u0041'),
  fc.constantFrom(...'abcxyz0!?*'.split('')).map((c) => `\\${c}`),
);
const space = fc.constantFrom(' ', ', ', '\n', '\t', ' ; a comment\n', ',', '\r\n');
const atom = fc.oneof(
  { arbitrary: fc.constantFrom('nil', 'true', 'false'), weight: 2 },
  { arbitrary: keyword, weight: 4 },
  { arbitrary: symbol, weight: 1 },
  { arbitrary: integer, weight: 4 },
  { arbitrary: float, weight: 2 },
  { arbitrary: string, weight: 3 },
  { arbitrary: char, weight: 1 },
  {
    arbitrary: fc
      .date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => `#inst "${d.toISOString()}"`),
    weight: 1,
  },
  { arbitrary: fc.uuid().map((u) => `#uuid "${u}"`), weight: 1 },
);

/** Keys of maps: never Dates (edn-data would use their locale text as the key). */
const mapKey = fc.oneof(keyword, string, integer, fc.constantFrom('nil', 'true', 'sym'));

const { form } = fc.letrec<{ form: string }>((tie) => ({
  form: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: atom, weight: 6 },
    {
      arbitrary: fc
        .tuple(fc.constantFrom('[', '(', '#{'), fc.array(tie('form'), { maxLength: 5 }), space)
        .map(([open, items, sp]) => {
          const close = open === '[' ? ']' : open === '(' ? ')' : '}';
          return `${open}${items.join(sp)}${close}`;
        }),
      weight: 2,
    },
    {
      arbitrary: fc
        .tuple(
          fc.array(fc.tuple(mapKey, tie('form')), { maxLength: 5 }),
          space,
          fc.option(fc.constantFrom('jepsen.history.Op', 'knossos.op.Op', 'x'), {
            nil: undefined,
          }),
        )
        .map(([pairs, sp, tag]) => {
          const body = `{${pairs.map(([k, v]) => `${k}${sp}${v}`).join(`,${sp}`)}}`;
          return tag === undefined ? body : `#${tag}${body}`;
        }),
      weight: 2,
    },
    { arbitrary: tie('form').map((f) => `#_ ${f}`), weight: 0 },
    {
      arbitrary: fc.tuple(atom, tie('form')).map(([dropped, f]) => `[#_ ${dropped} ${f}]`),
      weight: 1,
    },
  ),
}));

/** A Jepsen op map, the shape that fills a history. */
const opMap = fc
  .record({
    process: fc.oneof(fc.nat({ max: 50 }).map(String), fc.constant(':nemesis')),
    type: fc.constantFrom(':invoke', ':ok', ':fail', ':info'),
    f: fc.constantFrom(':read', ':write', ':cas', ':txn', ':append'),
    value: form,
    time: fc.bigInt({ min: 0n, max: 2n ** 62n }).map(String),
    index: fc.nat().map(String),
    error: fc.option(form, { nil: undefined }),
  })
  .map(
    (r) =>
      `{${Object.entries(r)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `:${k} ${v}`)
        .join(', ')}}`,
  );

/** A whole history: op maps in a vector, or one a line; sometimes damaged. */
const historyText = fc
  .tuple(
    fc.array(
      fc.oneof(
        { arbitrary: opMap, weight: 8 },
        { arbitrary: opMap.map((m) => `#jepsen.history.Op${m}`), weight: 1 },
        { arbitrary: form, weight: 1 },
      ),
      { maxLength: 8 },
    ),
    fc.constantFrom('vector', 'list', 'lines', 'spread'),
    fc.option(fc.tuple(fc.nat(), fc.constantFrom('', '[', '}', '"', '\n', ' :x', '#_', ';')), {
      nil: undefined,
    }),
  )
  .map(([ops, layout, damage]) => {
    let text =
      layout === 'vector'
        ? `[${ops.join('\n ')}]\n`
        : layout === 'list'
          ? `(${ops.join(', ')})`
          : layout === 'lines'
            ? `${ops.join('\n')}\n`
            : ops.join(' ');
    if (damage !== undefined) {
      // Cut the text short, or slip a character into it.
      const [at, insert] = damage;
      const k = at % (text.length + 1);
      text = insert === '' ? text.slice(0, k) : text.slice(0, k) + insert + text.slice(k);
    }
    return text;
  });

/** The same events, lines and warnings, or the same error. */
function sameReading(fast: () => unknown, careful: () => unknown): void {
  expect(outcome(fast)).toEqual(outcome(careful));
}

describe('one-pass history reading against form-by-form reading', () => {
  it('property: a vector of op maps (or maps one after another) reads the same', () => {
    fc.assert(
      fc.property(historyText, (text) => {
        sameReading(
          () => parseEdnHistory(text, 'h.edn'),
          () => parseEdnHistoryByForm(text, 'h.edn'),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('property: op maps one a line read the same', () => {
    fc.assert(
      fc.property(historyText, (text) => {
        sameReading(
          () => parseEdnLinesHistory(text, 'h.txt'),
          () => parseEdnLinesByLine(text, 'h.txt'),
        );
      }),
      { numRuns: 2000 },
    );
  });
});

describe('EDN reader against edn-data', () => {
  it('property: generated forms read the same', () => {
    fc.assert(
      fc.property(fc.oneof(form, opMap), (text) => {
        expect(outcome(() => readEdnValue(text))).toEqual(outcome(() => viaEdnData(text)));
      }),
      { numRuns: 3000 },
    );
  });

  it('words bad escapes as edn-data does', () => {
    for (const text of ['"a\\qb"', '"\\u12x4"', '#inst 5']) {
      expect(outcome(() => readEdnValue(text))).toEqual(outcome(() => viaEdnData(text)));
      expect('error' in outcome(() => readEdnValue(text))).toBe(true);
    }
  });

  it('reads values edn-data reads, named', () => {
    expect(readEdnValue('{:process 0, :type :invoke, :f :cas, :value [1 2]}')).toEqual({
      process: 0,
      type: 'invoke',
      f: 'cas',
      value: [1, 2],
    });
    expect(readEdnValue('[12345678901234567890 -9007199254740993 7N 1.5M 1e999 nil]')).toEqual([
      12345678901234567890n,
      -9007199254740993n,
      7,
      1.5,
      'Infinity',
      null,
    ]);
    expect(readEdnValue('#jepsen.history.Op{:index 0 :f :read}')).toEqual({
      tag: 'jepsen.history.Op',
      val: { index: 0, f: 'read' },
    });
    expect(readEdnValue('#{:a #_ :b "c\\n"} ; x')).toEqual(['a', 'c\n']);
    // Where edn-data read a tag named "#Inf" on the next form.
    expect(readEdnValue('{:a ##Inf :b ##-Inf :c ##NaN}')).toEqual({
      a: 'Infinity',
      b: '-Infinity',
      c: 'NaN',
    });
  });
});

// --- The reference histories ---------------------------------------------------------------

const testdata = fileURLToPath(new URL('../../../shared/testdata/', import.meta.url));

/** Every EDN file of the reference data: Knossos's vectors and Porcupine's map-per-line kv files. */
function ednFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(edn|txt)$/.test(entry.name)) out.push(path);
    }
  };
  walk(testdata);
  return out.sort();
}

describe('EDN reader on the reference histories', () => {
  const files = ednFiles();

  it('finds the EDN reference histories', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [f.slice(testdata.length), f]))(
    '%s: every op reads as edn-data reads it',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      const scan = scanEdn(text, file);
      const forms: EdnForm[] = scan.inner.length > 0 ? scan.inner : scan.top;
      expect(forms.length).toBeGreaterThan(0);
      for (const f of forms) expect(readEdnValue(f.text)).toEqual(viaEdnData(f.text));
      // The whole file in one pass (no fallback), as read form by form.
      const lines = file.endsWith('.txt');
      expect(readOpMaps(text, lines)).toBeDefined();
      if (lines) expect(parseEdnLinesHistory(text, file)).toEqual(parseEdnLinesByLine(text, file));
      else expect(parseEdnHistory(text, file)).toEqual(parseEdnHistoryByForm(text, file));
    },
  );
});
