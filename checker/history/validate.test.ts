import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HistoryError } from './errors.js';
import { historyEventSchema } from './event.js';
import { isHistoryEvent, parseHistoryEvent } from './validate.js';

/** Field values around every boundary the schema draws, valid and not. */
const edgy = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    1.5,
    2 ** 53,
    2 ** 53 - 1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    1e300,
  ),
  fc.constantFrom(5n, -1n, 2n ** 64n),
  fc.constantFrom('', 'x', 'nemesis', 'invoke', 'ok', 'fail', 'info', 'done', 'read', '3'),
  fc.constantFrom(null, undefined, true, [], {}, [1, 2]),
  fc.integer(),
  fc.double(),
  fc.string(),
);

const field = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: edgy });

/** Mostly valid events with the odd field wrong, so both answers are common. */
const nearlyValid = fc.record(
  {
    index: field(fc.nat()),
    time: field(fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e15, noNaN: true }))),
    process: field(fc.oneof(fc.nat(), fc.string({ minLength: 1 }))),
    type: field(fc.constantFrom('invoke', 'ok', 'fail', 'info')),
    f: field(fc.string({ minLength: 1 })),
    key: field(fc.oneof(fc.string(), fc.integer(), fc.bigInt())),
    value: fc.jsonValue(),
    node: field(fc.string()),
    error: fc.jsonValue(),
    extra: fc.jsonValue(),
  },
  { requiredKeys: ['index', 'time', 'process', 'type', 'f'] },
);

const anyCandidate = fc.record(
  {
    index: edgy,
    time: edgy,
    process: edgy,
    type: edgy,
    f: edgy,
    key: edgy,
    value: edgy,
    node: edgy,
    error: edgy,
    extra: edgy,
  },
  { requiredKeys: [] },
);

const candidate = fc.oneof(nearlyValid, anyCandidate);

describe('event validation', () => {
  it('property: the fast path accepts exactly what the zod schema accepts', () => {
    let acceptedCount = 0;
    fc.assert(
      fc.property(candidate, (v) => {
        const accepted = historyEventSchema.safeParse(v).success;
        expect(isHistoryEvent(v)).toBe(accepted);
        if (accepted) acceptedCount += 1;
      }),
      { numRuns: 2000 },
    );
    // Both answers were exercised.
    expect(acceptedCount).toBeGreaterThan(100);
    expect(acceptedCount).toBeLessThan(1900);
  });

  it('property: rejected events give a HistoryError naming the first field the schema objects to', () => {
    fc.assert(
      fc.property(candidate, (v) => {
        const zod = historyEventSchema.safeParse(v);
        if (zod.success) {
          expect(parseHistoryEvent(v, { file: 'h.jsonl', line: 3 })).toBe(v);
          return;
        }
        let error: unknown;
        try {
          parseHistoryEvent(v, { file: 'h.jsonl', line: 3 });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(HistoryError);
        const field = zod.error.issues[0]!.path[0];
        expect((error as HistoryError).field).toBe(field);
        expect(
          (error as HistoryError).message.startsWith(
            `h.jsonl:3: field "${String(field)}": expected `,
          ),
        ).toBe(true);
      }),
      { numRuns: 800 },
    );
  });

  it('does not accept arrays, null or strings as events', () => {
    for (const v of [null, [], 'x', 3]) {
      expect(isHistoryEvent(v)).toBe(false);
      expect(() => parseHistoryEvent(v, { file: 'f', line: 1 })).toThrow(
        /^f:1: expected an event object, got /,
      );
    }
  });
});
