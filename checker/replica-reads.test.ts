import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { valueId, valueOfId } from './replica-reads.js';
import { sameValue } from './testing/same-value.js';

/** Values an identity could confuse: tagged-looking strings, numbers and their strings, big integers. */
const leaf = fc.oneof(
  fc.constantFrom<unknown>(
    '\u0000J[1]',
    '\u0000S1',
    '\u0000',
    '[1]',
    '1',
    1,
    0,
    null,
    true,
    2 ** 53,
    2 ** 60,
    9007199254740992n,
    9007199254740993n,
    2n ** 60n,
    2n ** 60n + 1n,
    5n,
  ),
  fc.string({ maxLength: 2 }),
  fc.integer({ min: -2, max: 2 }),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b'), tie('v'), { maxKeys: 2 }),
  ),
})).v;

describe('valueId (the convergence checkers’ value identity)', () => {
  it('property: two values have one id exactly when they are equal, and the id gives the value back', () => {
    let equal = 0;
    fc.assert(
      fc.property(value, value, (a, b) => {
        const same = sameValue(a, b);
        if (same) equal++;
        expect(valueId(a) === valueId(b)).toBe(same);
        expect(sameValue(valueOfId(valueId(a)), a)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(equal).toBeGreaterThan(50);
  });
});
