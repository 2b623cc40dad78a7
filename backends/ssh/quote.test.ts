import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shCommand, shQuote } from './quote.js';

/** What `sh -c LINE` hands a program as its arguments, LINE being `shCommand([printf, ..., ...values])`. */
function argsThroughShell(values: readonly string[]): string[] {
  const line = shCommand(['printf', '%s\\000', ...values]);
  const out = execFileSync('sh', ['-c', line], { encoding: 'utf8' });
  return values.length === 0 ? [] : out.split('\0').slice(0, -1);
}

/** Characters a shell gives a meaning to, and a few plain ones. */
const SHELL_CHARS = [
  "'",
  '"',
  '$',
  '`',
  '\\',
  ' ',
  '\n',
  '\t',
  '*',
  '?',
  ';',
  '&',
  '|',
  '(',
  ')',
  '<',
  '>',
  '!',
  '#',
  '~',
  '-',
  '=',
  '{',
  '}',
  'a',
  'é',
];

describe('shQuote', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    expect(shQuote('abc-1.2_/x:y=z@%+,')).toBe('abc-1.2_/x:y=z@%+,');
    expect(shQuote('')).toBe("''");
    expect(shQuote('a b')).toBe("'a b'");
    expect(shQuote("it's")).toBe("'it'\\''s'");
    expect(shQuote('$(reboot)')).toBe("'$(reboot)'");
  });

  it('refuses a NUL byte (no shell argument can hold one)', () => {
    expect(() => shQuote('a\0b')).toThrow(/NUL/);
  });

  it('hands every value through a real shell unchanged, one argument each', () => {
    const hostile = [
      "'",
      '"',
      '$HOME',
      '`id`',
      '$(id)',
      '\\',
      'a b',
      '\n',
      '-n',
      '*',
      ';rm -rf x',
      '!',
      '#',
      '~',
      '',
      "'\\''",
    ];
    expect(argsThroughShell(hostile)).toEqual(hostile);
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom(...SHELL_CHARS), maxLength: 12 }), {
          maxLength: 12,
        }),
        (values) => {
          expect(argsThroughShell(values)).toEqual(values);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('an empty command is an error', () => {
    expect(() => shCommand([])).toThrow(/empty/);
  });
});
