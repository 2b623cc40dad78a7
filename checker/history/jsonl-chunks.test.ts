/**
 * JsonlChunks (the JSONL reader's parsing) against a plain line-by-line reading of the same
 * text: the bytes cut anywhere (inside lines and characters), lines with integers beyond 2^53,
 * multi-byte characters, CRLF, blank lines, a byte-order mark. Chunks parsed with one
 * JSON.parse must give exactly what the exact line-by-line parse gives: a big integer read by
 * JSON.parse (rounded, a number) fails the comparison with the bigint read line by line.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HistoryError, type HistoryWarning } from './errors.js';
import type { HistoryEvent } from './event.js';
import { parseJson, stringifyJson } from './json.js';
import { JsonlChunks } from './jsonl.js';
import { parseHistoryEvent } from './validate.js';

const FILE = 'h.jsonl';

const unsafe = fc.oneof(
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n }),
  fc.bigInt({ min: -(2n ** 70n), max: -(2n ** 53n) }),
);
const leaf = fc.oneof(
  unsafe,
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('9007199254740993', 'é€😀', null, true, false),
);
const value = fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }), fc.dictionary(fc.string(), leaf));

const event = fc.record(
  {
    index: fc.nat(),
    time: fc.oneof(fc.nat(), fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n })),
    process: fc.oneof(fc.nat(), fc.constantFrom('nemesis', 'c-é')),
    type: fc.constantFrom('invoke', 'ok', 'fail', 'info'),
    f: fc.constantFrom('read', 'write', 'cas'),
    key: fc.oneof(fc.string({ unit: 'grapheme' }), fc.integer(), unsafe),
    value,
  },
  { requiredKeys: ['index', 'time', 'process', 'type', 'f'] },
);

/** A line of the file: an event, or (now and then) a blank one; CRLF or LF. */
const line = fc.record({
  text: fc.oneof(
    { weight: 8, arbitrary: event.map((e) => stringifyJson(e)!) },
    { weight: 1, arbitrary: fc.constantFrom('', '  ', '\t') },
  ),
  crlf: fc.boolean(),
});

/** A byte length of each piece the file is cut into (the pieces `push`ed in turn). */
const cuts = fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 30 });

const file = fc.record({
  bom: fc.boolean(),
  lines: fc.array(line, { maxLength: 40 }),
  newlineAtEnd: fc.boolean(),
});

function text(f: {
  bom: boolean;
  lines: { text: string; crlf: boolean }[];
  newlineAtEnd: boolean;
}) {
  const body = f.lines.map((l) => l.text + (l.crlf ? '\r' : '')).join('\n');
  return (f.bom ? '\uFEFF' : '') + body + (f.newlineAtEnd && f.lines.length > 0 ? '\n' : '');
}

/** The reading the chunks must agree with: line by line, each with the exact parser. */
function reference(all: string): { events: HistoryEvent[]; lines: number[] } {
  const events: HistoryEvent[] = [];
  const lines: number[] = [];
  const body = all.startsWith('\uFEFF') ? all.slice(1) : all;
  body.split('\n').forEach((raw, i) => {
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (l.trim() === '') return;
    let v: { time: unknown };
    try {
      v = parseJson(l) as { time: unknown };
    } catch (e) {
      throw new HistoryError({ file: FILE, line: i + 1 }, `invalid JSON (${(e as Error).message})`);
    }
    if (typeof v.time === 'bigint') v.time = Number(v.time);
    events.push(parseHistoryEvent(v, { file: FILE, line: i + 1 }));
    lines.push(i + 1);
  });
  return { events, lines };
}

/** JsonlChunks fed `bytes` in pieces of the given lengths (the last piece: the rest). */
function chunked(bytes: Buffer, pieces: number[]) {
  const warnings: HistoryWarning[] = [];
  const chunks = new JsonlChunks(FILE, { onWarning: (w) => warnings.push(w) });
  const events: HistoryEvent[] = [];
  const lines: number[] = [];
  const add = (b: { events: HistoryEvent[]; lines: number[] } | undefined) => {
    if (b === undefined) return;
    events.push(...b.events);
    lines.push(...b.lines);
  };
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = i < pieces.length ? pieces[i]! : bytes.length - at;
    add(chunks.push(bytes.subarray(at, at + n)));
    at += n;
  }
  add(chunks.finish());
  return { events, lines, warnings };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('JsonlChunks', () => {
  it('property: reads what a line-by-line exact parse reads, however the bytes are cut', () => {
    fc.assert(
      fc.property(file, cuts, (f, pieces) => {
        const all = text(f);
        const got = chunked(Buffer.from(all, 'utf8'), pieces);
        expect(got.warnings).toEqual([]);
        expect({ events: got.events, lines: got.lines }).toEqual(reference(all));
      }),
      { numRuns: 300 },
    );
  });

  it('property: a bad line is the same error as when read line by line', () => {
    const bad = fc.constantFrom(
      '{"index":0,"time":1,"process":0,"type":"done","f":"read"}',
      '{"index":0,"time":1,"process":0,"type":"ok","f":"read","value":9007199254740993,}',
      '{"index":-1,"time":1,"process":0,"type":"ok","f":"read"}',
      '{"index":0,"time":1,"process":0,"type":"ok","f":"read"} {}',
      '[1,2]',
      '{"index":0,',
    );
    fc.assert(
      fc.property(file, bad, fc.nat(), cuts, (f, badLine, where, pieces) => {
        const lines = [...f.lines];
        lines.splice(where % (lines.length + 1), 0, { text: badLine, crlf: false });
        // The bad line is never a last line without a newline (that is a warning, tested apart).
        const all = text({ ...f, lines, newlineAtEnd: true });
        const expected = thrown(() => reference(all));
        const got = thrown(() => chunked(Buffer.from(all, 'utf8'), pieces));
        expect(got).toBeInstanceOf(HistoryError);
        expect((got as Error).message).toBe((expected as Error).message);
      }),
      { numRuns: 200 },
    );
  });

  it('reads integers beyond 2^53 exactly in a chunk of many lines', () => {
    const lines = Array.from(
      { length: 5000 },
      (_, i) => `{"index":${i},"time":${i},"process":0,"type":"ok","f":"read","value":${i}}`,
    );
    lines[4321] = lines[4321]!.replace(/"value":\d+/, '"value":[18446744073709551617,1]');
    const got = chunked(Buffer.from(`${lines.join('\n')}\n`), [100_000, 7, 300_000]);
    expect(got.events).toHaveLength(5000);
    expect(got.events[4321]!.value).toEqual([18446744073709551617n, 1]);
    expect(got.events[4322]!.value).toBe(4322);
    expect(got.lines[4999]).toBe(5000);
  });
});
