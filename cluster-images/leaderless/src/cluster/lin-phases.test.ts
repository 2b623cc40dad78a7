import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LinPhases } from './lin-phases.js';

const dir = () => mkdtempSync(join(tmpdir(), 'lin-phases-'));

describe('LinPhases', () => {
  it('phases only grow within a version, and a new version starts again', () => {
    const t = new LinPhases(undefined);
    expect(t.get('n4', 1)).toBe(0);
    expect(t.raise('n4', 1, 2)).toBe(true);
    expect(t.raise('n4', 1, 1)).toBe(false);
    expect(t.get('n4', 1)).toBe(2);
    expect(t.raise('n4', 0, 4)).toBe(false); // an older change
    expect(t.get('n4', 3)).toBe(0);
    expect(t.raise('n4', 3, 1)).toBe(true);
    expect(t.get('n4', 1)).toBe(0);
  });

  it('survives a restart (the file is written before the raise returns)', () => {
    const file = LinPhases.fileIn(dir());
    new LinPhases(file).raise('n4', 7, 3);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ phases: [['n4', 7, 3]] });
    expect(new LinPhases(file).get('n4', 7)).toBe(3);
  });

  it('refuses a damaged file, naming it', () => {
    const file = LinPhases.fileIn(dir());
    writeFileSync(file, JSON.stringify({ phases: [['n4', 1, 99]] }));
    expect(() => new LinPhases(file)).toThrow(/lin-phases.json: bad row/);
  });
});
