import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readBack } from '../testing/read-back.js';
import { parseEdnHistory, parseEdnHistoryByForm } from './edn.js';
import { parseEdnLinesHistory } from './edn-lines.js';
import type { HistoryEvent } from './event.js';
import { toEdnHistory, toEdnLines } from './export.js';

/** Integers edn-data's parseInt would round: read back exactly, as bigints. */
const unsafeInteger = fc.oneof(
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n }),
  fc.bigInt({ min: -(2n ** 64n), max: -(2n ** 53n) }),
);

/** Sequential single-process histories whose values are any JSON (strings with quotes, ;, brackets, newlines...). */
const history = fc
  .array(
    fc.record({
      f: fc.constantFrom('read', 'write', 'cas', 'x?', 'a.b-c'),
      value: fc.oneof(
        fc.jsonValue({ maxDepth: 3 }),
        unsafeInteger,
        fc.array(fc.oneof(unsafeInteger, fc.integer()), { maxLength: 3 }),
      ),
      error: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
      key: fc.option(fc.oneof(fc.string(), fc.integer(), unsafeInteger), { nil: undefined }),
      type: fc.constantFrom('ok', 'fail', 'info'),
      dt: fc.nat({ max: 1_000_000 }),
    }),
    { maxLength: 20 },
  )
  .map((ops) => {
    const events: HistoryEvent[] = [];
    let time = 0;
    let process = 0;
    for (const op of ops) {
      for (const type of ['invoke', op.type] as const) {
        time += op.dt;
        const e: HistoryEvent = {
          index: events.length,
          time,
          process,
          type,
          f: op.f,
          value: readBack(op.value),
        };
        if (op.key !== undefined) e.key = op.key;
        if (type !== 'invoke' && op.error !== undefined) e.error = readBack(op.error);
        events.push(e);
      }
      if (op.type === 'info') process += 1;
    }
    return events;
  });

describe('EDN import', () => {
  it('property: a history written as an EDN vector reads back identical', () => {
    fc.assert(
      fc.property(history, (events) => {
        const h = parseEdnHistory(toEdnHistory(events), 'h.edn');
        expect(h.warnings).toEqual([]);
        expect(h.events).toEqual(events);
      }),
      { numRuns: 200 },
    );
  });

  it('property: a history written as EDN maps one per line reads back identical', () => {
    fc.assert(
      fc.property(history, (events) => {
        const text = toEdnLines(events);
        expect(text.split('\n')).toHaveLength(events.length + 1);
        expect(parseEdnLinesHistory(text, 'h.txt').events).toEqual(events);
        // The same text is also a valid `edn` file (maps one after another).
        expect(parseEdnHistory(text, 'h.edn').events).toEqual(events);
      }),
      { numRuns: 200 },
    );
  });

  it('names the line of each op in a multi-line vector with comments', () => {
    const text = [
      '; a comment with [brackets] and "quotes"',
      '[{:process 0, :type :invoke,',
      '  :f :read, :value nil} ; trailing',
      ' {:process 0, :type :ok, :f :read, :value "a ; b [c"}',
      ' {:process 1, :type :ok, :f :read, :value \\a}]',
    ].join('\n');
    const h = parseEdnHistory(text, 'h.edn');
    expect(h.lines).toEqual([2, 4, 5]);
    expect(h.events[1]!.value).toBe('a ; b [c');
    expect(h.events[2]!.value).toBe('a');
  });
});

describe('EDN integers beyond 2^53', () => {
  it('reads them exactly (bare or with N), outside strings, comments and characters', () => {
    const text = [
      '[{:process 0, :type :invoke, :f :write, :value 9007199254740993, :key 18446744073709551615}',
      ' {:process 0, :type :ok, :f :write, :value [9007199254740992 -9007199254740993N 5N "9007199254740993"]}',
      ' ; 9007199254740993 in a comment',
      ' {:process 1, :type :invoke, :f :read, :value \\9, :time 9007199254740993}',
      ' {:process 1, :type :ok, :f :read, :value {:a 18446744073709551616}}]',
      '',
    ].join('\n');
    const h = parseEdnHistory(text, 'h.edn');
    expect(h.events.map((e) => [e.key, e.value])).toEqual([
      [18446744073709551615n, 9007199254740993n],
      [undefined, [9007199254740992n, -9007199254740993n, 5, '9007199254740993']],
      [undefined, '9'],
      [undefined, { a: 18446744073709551616n }],
    ]);
  });
});

describe('EDN line numbers', () => {
  it('a char literal of a raw line break counts as a line, on both reading paths', () => {
    const text = [
      '[{:process 0, :type :invoke, :f :read, :value \\',
      '}',
      ' {:type :ok, :f :read}]',
      '',
    ].join('\n');
    for (const read of [parseEdnHistory, parseEdnHistoryByForm]) {
      expect(() => read(text, 'h.edn')).toThrow(/^h\.edn:3: field "process"/);
    }
  });
});
