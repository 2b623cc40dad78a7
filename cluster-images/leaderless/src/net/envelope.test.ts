import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { envelopeSchema, parseEnvelope } from './envelope.js';

// The hand-written validator must accept exactly what the schema accepts, with the same result.
const field = fc.oneof(
  fc.constantFrom('req', 'res', 'ping', 'pong', 'hello', 'welcome', 'challenge', 'auth', 'nope'),
  fc.constantFrom(
    '0123456789abcdef'.repeat(2),
    'ab'.repeat(32),
    'AB'.repeat(16),
    'bad id',
    'x'.repeat(65),
  ),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN, true, null, 'n1', undefined),
  fc.jsonValue({ maxDepth: 2 }),
);
const message = fc.record(
  {
    t: fc.constantFrom(
      'req',
      'res',
      'ping',
      'pong',
      'hello',
      'welcome',
      'challenge',
      'auth',
      'other',
      7,
    ),
    id: field,
    ok: field,
    body: field,
    error: field,
    v: field,
    from: field,
    to: field,
    nonce: field,
    proof: field,
    extra: field,
  },
  { requiredKeys: [] },
);

describe('parseEnvelope', () => {
  it('agrees with envelopeSchema on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(message, fc.jsonValue({ maxDepth: 2 })), (raw) => {
        const want = envelopeSchema.safeParse(raw);
        const got = parseEnvelope(raw);
        if (want.success) expect(got).toEqual(want.data);
        else expect(got).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });
  it('accepts the messages the transport sends', () => {
    expect(parseEnvelope({ t: 'req', id: 3, body: { t: 'get' } })).toEqual({
      t: 'req',
      id: 3,
      body: { t: 'get' },
    });
    expect(parseEnvelope({ t: 'res', id: 0, ok: false, error: 'x' })).toEqual({
      t: 'res',
      id: 0,
      ok: false,
      error: 'x',
    });
    expect(parseEnvelope({ t: 'req', id: -1, body: 1 })).toBeUndefined();
  });
});
