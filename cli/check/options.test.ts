import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../exit-codes.js';
import { quickCheckFlags } from './flags.js';
import { parseCheckFlags } from './options.js';

const MODELS = ['register', 'cas-register'];
const base = { format: 'auto', partition: true };

describe('parseCheckFlags', () => {
  it('parses --initial as JSON and --timeout as seconds', () => {
    expect(parseCheckFlags({ ...base, initial: '0' }, MODELS).initial).toBe(0);
    expect(parseCheckFlags({ ...base, initial: 'null' }, MODELS).initial).toBeNull();
    expect(parseCheckFlags({ ...base, initial: '"x"' }, MODELS).initial).toBe('x');
    expect(parseCheckFlags({ ...base, initial: '[1,2]' }, MODELS).initial).toEqual([1, 2]);
    expect('initial' in parseCheckFlags(base, MODELS)).toBe(false);
    expect(parseCheckFlags({ ...base, timeout: '1.5' }, MODELS).timeout).toBe(1.5);
  });

  it('fills in the boolean flags', () => {
    const f = parseCheckFlags({ ...base, model: 'register' }, MODELS);
    expect(f).toMatchObject({
      model: 'register',
      json: false,
      perPartition: false,
      partition: true,
    });
  });

  it.each([
    [
      { model: 'regster' },
      /^--model "regster": unknown model; known models: register, cas-register; for transactions: list-append, rw-register$/,
    ],
    [{ format: 'xml' }, /^--format "xml": expected one of auto, jsonl/],
    [{ initial: 'x' }, /^--initial "x": not JSON/],
    [{ timeout: '0' }, /^--timeout "0": expected a positive number of seconds$/],
    [{ timeout: '-1' }, /^--timeout "-1": expected a positive number of seconds$/],
    [{ timeout: 'soon' }, /^--timeout "soon": expected a positive number of seconds$/],
  ])('rejects %o naming the flag and the value', (bad, message) => {
    let error: unknown;
    try {
      parseCheckFlags({ ...base, ...bad }, MODELS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('quickCheckFlags', () => {
  const raw = fc.record(
    {
      model: fc.constantFrom('register', 'cas-register', 'regster', '', 5),
      format: fc.constantFrom('auto', 'jsonl', 'edn', 'jepsen-log', 'edn-lines', 'xml', undefined),
      initial: fc.constantFrom('0', 'null', '"x"', '[1,2]', 'x', '', '12345678901234567890', 3),
      timeout: fc.constantFrom('1.5', '0', '-1', 'soon', ' 2 ', '1e3', '00.5', '', 7),
      out: fc.constantFrom('dir', '', 1),
      json: fc.constantFrom(true, false, 'yes'),
      perPartition: fc.constantFrom(true, false, 0),
      partition: fc.constantFrom(true, false, null),
      anomalies: fc.constantFrom('G0', undefined),
    },
    { requiredKeys: [] },
  );

  it('property: reads what the schema accepts, as the schema does, and leaves it the rest', () => {
    fc.assert(
      fc.property(raw, (r) => {
        let expected: unknown;
        try {
          expected = parseCheckFlags(r, MODELS);
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
          expected = undefined;
        }
        expect(quickCheckFlags(r, MODELS)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
