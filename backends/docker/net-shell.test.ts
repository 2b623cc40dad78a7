import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { printfOf } from './net-shell.js';
import { partitionRules } from './netfilter.js';

/** What `sh` prints for the line (the shell the network containers run). */
const shPrints = (line: string) => execFileSync('sh', ['-c', line], { encoding: 'utf8' });

describe('the network shell', () => {
  it('prints any safe text exactly, with a final newline, even lines starting with -', () => {
    const safeLine = fc.stringMatching(/^[A-Za-z0-9 .,:=/@+*[\]_-]{0,30}$/);
    fc.assert(
      fc.property(fc.array(safeLine, { minLength: 1, maxLength: 5 }), (lines) => {
        const text = `${lines.join('\n')}\n`;
        expect(shPrints(printfOf(text))).toBe(text);
      }),
      { numRuns: 50 },
    );
    expect(shPrints(printfOf('-90.000'))).toBe('-90.000\n');
    const rules = partitionRules('n1', { n1: ['n2'] }, (n) => `10.0.0.${n.slice(1)}`, ['n1', 'n2']);
    expect(shPrints(printfOf(rules))).toBe(rules);
  });

  it('refuses text that could escape the quotes', () => {
    for (const bad of ["a'b", 'a$b', 'a`b', 'a\\b', 'a;b']) {
      expect(() => printfOf(bad)).toThrow(/unsafe/);
    }
  });
});
