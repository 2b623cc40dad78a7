import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../checker/history/json.js';
import type { EventInput } from '../core/event.js';
import { encodeLine, JsonLineEncoder } from './jsonl-encoder.js';

const KNOWN = ['index', 'time', 'process', 'type', 'f', 'key', 'value', 'node', 'error'];

// Strings of every kind: plain ASCII, characters JSON escapes, any code point, and single UTF-16
// code units (lone surrogates among them).
const anyString = fc.oneof(
  fc.string({ unit: 'binary-ascii' }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', 'a', '/') }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  fc.string({ unit: 'binary-ascii', minLength: 40, maxLength: 200 }),
  fc.string({ unit: 'binary', minLength: 40, maxLength: 200 }),
);
// Numbers of every kind: small, safe, unsafe, negative, fractional, -0, NaN, ±Infinity.
const anyNumber = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(-0, 2 ** 53, 2 ** 53 + 2, 1e21, -1e21, 1e-7, 0.1, 99, 100, 1e8, 1e16 - 1),
);
// Values that JSON.stringify leaves out of an object.
const unwritable = fc.constantFrom(() => 1, Symbol('s'), undefined);
const anyValue = fc.oneof(
  anyNumber,
  anyString,
  fc.constantFrom(null, true, false),
  fc.array(fc.oneof(fc.constant(null), anyNumber), { maxLength: 20 }),
  fc.jsonValue(),
  fc.anything({ withDate: true, withSparseArray: true, withBoxedValues: true }),
  fc.array(fc.oneof(anyString, anyNumber, fc.jsonValue())),
  fc.dictionary(anyString, fc.oneof(anyString, anyNumber, fc.jsonValue())),
);
const extraName = anyString.filter(
  (k) => !KNOWN.includes(k) && k !== '__proto__' && !/^(0|[1-9][0-9]*)$/.test(k),
);

const eventArb = fc.record(
  {
    index: fc.oneof(fc.nat(), fc.maxSafeNat()),
    time: fc.oneof(fc.nat(), fc.maxSafeNat(), fc.double({ min: 0, noNaN: true })),
    process: fc.oneof(fc.nat(), anyNumber, anyString),
    type: fc.oneof(fc.constantFrom('invoke', 'ok', 'fail', 'info'), anyString),
    f: anyString,
    key: fc.oneof(anyString, anyNumber, unwritable),
    value: fc.oneof(anyValue, unwritable),
    node: fc.oneof(anyString, unwritable),
    error: fc.oneof(anyValue, unwritable),
    extras: fc.dictionary(extraName, fc.oneof(anyValue, unwritable), { maxKeys: 4 }),
    // The recorder sets index and time: stale ones in the input object are ignored.
    stale: fc.option(fc.record({ index: fc.nat(), time: fc.nat() }), { nil: undefined }),
  },
  { requiredKeys: ['index', 'time', 'process', 'type', 'f', 'extras'] },
);

type Arb = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

/** The recorder's input object, built as a caller might (optional fields left out or undefined). */
function inputOf(e: Arb): EventInput {
  const input: Record<string, unknown> = {};
  if (e.stale !== undefined) Object.assign(input, e.stale);
  Object.assign(input, { process: e.process, type: e.type, f: e.f });
  for (const k of ['key', 'value', 'node', 'error'] as const) if (k in e) input[k] = e[k];
  Object.assign(input, e.extras);
  return input as EventInput;
}

/** The reference: JSON.stringify of the event with its fields in the documented order. */
function expectedLine(e: Arb): string {
  const ref: Record<string, unknown> = {
    index: e.index,
    time: e.time,
    process: e.process,
    type: e.type,
    f: e.f,
  };
  for (const k of ['key', 'value', 'node', 'error'] as const) if (k in e) ref[k] = e[k];
  Object.assign(ref, e.extras);
  return `${JSON.stringify(ref)}\n`;
}

describe('JsonLineEncoder', () => {
  it('writes the bytes of JSON.stringify of the event, fields in the documented order', () => {
    fc.assert(
      fc.property(eventArb, (e) => {
        const line = encodeLine(inputOf(e), e.index, e.time);
        expect(line).toBe(expectedLine(e));
      }),
      { numRuns: 1000 },
    );
  });

  it('appends whole lines, growing its buffer from any size, and take() empties it', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 200 }),
        (events, initial) => {
          const enc = new JsonLineEncoder(initial);
          for (const e of events) enc.encode(inputOf(e), e.index, e.time);
          const bytes = Buffer.from(enc.take());
          expect(enc.length).toBe(0);
          // Byte for byte: well-formed JSON.stringify text (lone surrogates escaped) as UTF-8.
          expect(bytes.equals(Buffer.from(events.map(expectedLine).join(''), 'utf8'))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves no partial line behind when a value cannot be encoded', () => {
    const enc = new JsonLineEncoder(16);
    enc.encode({ process: 0, type: 'invoke', f: 'read' }, 0, 1);
    const before = enc.length;
    const cycle: unknown[] = [];
    cycle.push(cycle);
    expect(() => enc.encode({ process: 0, type: 'ok', f: 'read', value: cycle }, 1, 2)).toThrow();
    expect(enc.length).toBe(before);
    enc.encode({ process: 0, type: 'ok', f: 'read', value: 2 }, 1, 2);
    expect(enc.take().toString('utf8')).toBe(
      '{"index":0,"time":1,"process":0,"type":"invoke","f":"read"}\n' +
        '{"index":1,"time":2,"process":0,"type":"ok","f":"read","value":2}\n',
    );
  });
});

describe('JsonLineEncoder and bigints', () => {
  it('writes a bigint anywhere as a bare integer literal', () => {
    const big = 9007199254740993n;
    expect(
      encodeLine(
        {
          process: 0,
          type: 'ok',
          f: 'read',
          key: 18446744073709551615n,
          value: [big, 1, { rev: -big }],
          error: big,
          revision: big,
        },
        3,
        4,
      ),
    ).toBe(
      '{"index":3,"time":4,"process":0,"type":"ok","f":"read","key":18446744073709551615,' +
        '"value":[9007199254740993,1,{"rev":-9007199254740993}],"error":9007199254740993,' +
        '"revision":9007199254740993}\n',
    );
    expect(encodeLine({ process: 0, type: 'ok', f: 'read', value: big }, 0, 1)).toBe(
      '{"index":0,"time":1,"process":0,"type":"ok","f":"read","value":9007199254740993}\n',
    );
  });

  it('property: a line with bigints reads back as the same values', () => {
    const bigish = fc.oneof(
      fc
        .bigInt({ min: -(2n ** 70n), max: 2n ** 70n })
        .filter((b) => b > 2n ** 53n || b < -(2n ** 53n)),
      fc.constantFrom(2n ** 53n + 1n, -(2n ** 63n), 2n ** 64n - 1n),
    );
    const withBig = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        bigish,
        fc.integer(),
        fc.string(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(
          fc.string().filter((k) => k !== '__proto__'),
          tie('value'),
          { maxKeys: 3 },
        ),
      ),
    })).value;
    fc.assert(
      fc.property(withBig, fc.oneof(bigish, fc.string()), (value, key) => {
        const line = encodeLine({ process: 1, type: 'ok', f: 'read', key, value }, 0, 1);
        expect(parseJson(line)).toEqual({
          index: 0,
          time: 1,
          process: 1,
          type: 'ok',
          f: 'read',
          key,
          value,
        });
      }),
      { numRuns: 300 },
    );
  });
});
