import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stableStringify } from '../porcupine/index.js';
import { mayHoldUnsafeInteger, parseJson, stringifyJson } from './json.js';

/** The test's own writer: bigints as their digits, random whitespace between tokens. */
function write(v: unknown, ws: () => string): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v))
    return `[${ws()}${v.map((x) => write(x, ws)).join(`${ws()},${ws()}`)}${ws()}]`;
  if (typeof v === 'object' && v !== null) {
    const parts = Object.entries(v).map(
      ([k, x]) => `${JSON.stringify(k)}${ws()}:${ws()}${write(x, ws)}`,
    );
    return `{${ws()}${parts.join(`,${ws()}`)}${ws()}}`;
  }
  return JSON.stringify(v);
}

/** Every bigint as the double JSON.parse would have read. */
function rounded(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(rounded);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      Object.defineProperty(out, k, {
        value: rounded(x),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}

const unsafe = fc.oneof(
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }),
  fc.bigInt({ min: -(2n ** 80n), max: -(2n ** 53n) }),
  fc.constantFrom(2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 64n - 1n, 10n ** 21n + 1n),
);
const leaf = fc.oneof(
  unsafe,
  fc.integer(),
  fc.maxSafeInteger(),
  // Doubles JSON.stringify writes as integer literals beyond 2^53 read back as bigints: left out.
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((d) => !(Number.isInteger(d) && !Number.isSafeInteger(d) && Math.abs(d) < 1e21))
    .filter((d) => !Object.is(d, -0)), // JSON has no -0
  fc.constantFrom(1e21, 1.5e300, 4503599627370495.5, 0.1),
  fc.string(),
  fc.constantFrom('9007199254740993', '__proto__', null, true, false),
);
const tree = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constant('__proto__')), tie('v'), { maxKeys: 3 }),
  ),
})).v;
const whitespace = fc.array(fc.constantFrom('', ' ', '\n', '\t', '\r'), { maxLength: 3 });

describe('parseJson', () => {
  it('property: reads integer literals beyond 2^53 as exact bigints, everything else as JSON.parse', () => {
    let withBig = 0;
    fc.assert(
      fc.property(tree, whitespace, (value, spaces) => {
        let k = 0;
        const text = write(value, () => spaces[k++ % Math.max(1, spaces.length)] ?? '');
        const got = parseJson(text);
        // Exact: the bigints come back as written (toEqual tells 5n from 5).
        expect(got).toEqual(value);
        // And only they differ from what JSON.parse reads.
        expect(rounded(got)).toEqual(JSON.parse(text));
        if (text !== JSON.stringify(rounded(value))) withBig++;
      }),
      { numRuns: 1500 },
    );
    expect(withBig).toBeGreaterThan(300);
  });

  it('property: accepts and rejects exactly what JSON.parse does', () => {
    let rejected = 0;
    fc.assert(
      fc.property(
        tree,
        fc.nat(),
        fc.constantFrom('', '}', ']', ',', ':', '"', '-', '0', 'e', '.', '\\', 'x', ' ', '\u0001'),
        fc.boolean(),
        (value, at, char, remove) => {
          const base = write(value, () => '');
          const i = at % (base.length + 1);
          const text = `${base.slice(0, i)}${char}${base.slice(remove ? i + 1 : i)}12345678901234567`;
          let expected: unknown;
          let native: unknown;
          try {
            native = JSON.parse(text);
          } catch (e) {
            expected = e;
          }
          if (expected === undefined) {
            expect(rounded(parseJson(text))).toEqual(native);
          } else {
            rejected++;
            // The same error as JSON.parse (it words it).
            expect(() => parseJson(text)).toThrow((expected as Error).message);
          }
        },
      ),
      { numRuns: 1500 },
    );
    expect(rejected).toBeGreaterThan(300);
  });

  it('keeps safe integers as numbers and a 16-digit safe one too', () => {
    expect(parseJson('[9007199254740991,-9007199254740991,1234567890123456]')).toEqual([
      9007199254740991, -9007199254740991, 1234567890123456,
    ]);
    expect(
      parseJson('{"a":9007199254740993,"b":"9007199254740993","c":9007199254740993.0}'),
    ).toEqual({
      a: 9007199254740993n,
      b: '9007199254740993',
      c: 9007199254740992,
    });
  });
});

describe('stringifyJson', () => {
  it('is JSON.stringify without bigints', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (v, space) => {
        expect(stringifyJson(v, space)).toBe(JSON.stringify(v, null, space));
      }),
      { numRuns: 300 },
    );
  });

  it('property: writes bigints as bare integer literals that parseJson reads back', () => {
    fc.assert(
      fc.property(tree, fc.constantFrom(undefined, 2), (value, space) => {
        const text = stringifyJson(value, space)!;
        expect(parseJson(text)).toEqual(value);
        if (space === undefined) expect(text).toBe(write(value, () => ''));
      }),
      { numRuns: 500 },
    );
    expect(stringifyJson({ a: [2n ** 64n, 'x'] })).toBe('{"a":[18446744073709551616,"x"]}');
  });

  it("porcupine's stableStringify writes bigints as literals that read back the same", () => {
    const v = { b: [2n ** 64n, -(2n ** 60n) - 1n], a: 'x' };
    expect(stableStringify(v)).toBe('{"a":"x","b":[18446744073709551616,-1152921504606846977]}');
    expect(parseJson(stableStringify(v))).toEqual(v);
  });

  it('tells a string that looks like its placeholder from a bigint', () => {
    // Whatever a placeholder looks like, a string is written as a string.
    const tricky = ['\u0001bigint', '\u0001bigintabc:5', '"\u0001bigint:5"'];
    const v = { s: tricky, b: 2n ** 60n };
    expect(parseJson(stringifyJson(v)!)).toEqual(v);
  });
});

describe('mayHoldUnsafeInteger', () => {
  it('property: finds a run of 16 digits exactly when a regular expression does', () => {
    const char = fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom('0', '1', '9') },
      { weight: 1, arbitrary: fc.constantFrom('a', ',', ':', '"', '-', '.') },
    );
    const text = fc.array(char, { maxLength: 80, size: 'max' }).map((cs) => cs.join(''));
    let found = 0;
    fc.assert(
      fc.property(text, (t) => {
        const expected = /[0-9]{16}/.test(t);
        if (expected) found++;
        expect(mayHoldUnsafeInteger(t)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    expect(found).toBeGreaterThan(500);
    expect(found).toBeLessThan(4500);
  });
});
