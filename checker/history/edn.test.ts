import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEdnHistory } from './edn.js';
import { parseEdnLinesHistory } from './edn-lines.js';
import type { HistoryEvent } from './event.js';
import { toEdnHistory, toEdnLines } from './export.js';

/** JSON data as EDN carries it back: no -0, no "__proto__" keys. */
function plain(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== '__proto__') out[k] = plain(x);
    return out;
  }
  return v;
}

/** Sequential single-process histories whose values are any JSON (strings with quotes, ;, brackets, newlines...). */
const history = fc
  .array(
    fc.record({
      f: fc.constantFrom('read', 'write', 'cas', 'x?', 'a.b-c'),
      value: fc.jsonValue({ maxDepth: 3 }),
      error: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
      key: fc.option(fc.oneof(fc.string(), fc.integer()), { nil: undefined }),
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
          value: plain(op.value),
        };
        if (op.key !== undefined) e.key = op.key;
        if (type !== 'invoke' && op.error !== undefined) e.error = plain(op.error);
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
