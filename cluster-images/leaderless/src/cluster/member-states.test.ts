import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MemberStates, type MemberStateWire, STATUSES, supersedes } from './member-states.js';
import { Placement } from './placement.js';

const POOL = new Set(['a', 'b', 'c', 'd', 'e']);
const members = (ids: string[]) =>
  ids.map((id): [string, { status: 'member'; version: number }] => [
    id,
    { status: 'member', version: 0 },
  ]);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempFile = () => {
  const d = mkdtempSync(join(tmpdir(), 'member-states-'));
  dirs.push(d);
  return MemberStates.fileIn(d);
};

describe('MemberStates', () => {
  it('keeps the higher version; at equal versions the later status', () => {
    const s = new MemberStates(POOL, members(['a', 'b', 'c']), undefined);
    expect(s.merge([['d', 'joining', 3]])).toBe(true);
    expect(s.merge([['d', 'left', 2]])).toBe(false);
    expect(s.get('d')).toEqual({ status: 'joining', version: 3 });
    expect(s.merge([['d', 'member', 3]])).toBe(true);
    expect(s.merge([['d', 'joining', 3]])).toBe(false);
    expect(s.get('d')).toEqual({ status: 'member', version: 3 });
    expect(s.set('a', 'leaving')).toEqual({ status: 'leaving', version: 1 });
  });

  it('ignores ids outside the pool and malformed entries', () => {
    const s = new MemberStates(POOL, members(['a']), undefined);
    const changed = s.merge([
      ['zz', 'member', 5],
      ['b', 'king', 1],
      ['b', 'member', -1],
      ['b', 'member', 1.5],
      ['bad id!', 'member', 1],
      'junk',
      ['b', 'member'],
    ]);
    expect(changed).toBe(false);
    expect(s.entries().map(([id]) => id)).toEqual(['a']);
  });

  it('converges to the same table whatever order entries arrive in (merge is a join)', () => {
    const entry = fc.tuple(
      fc.constantFrom('a', 'b', 'c', 'd'),
      fc.constantFrom(...STATUSES),
      fc.integer({ min: 0, max: 4 }),
    );
    const listAndShuffle = fc
      .array(entry, { maxLength: 30 })
      .chain((list) =>
        fc.tuple(
          fc.constant(list),
          fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }),
        ),
      );
    fc.assert(
      fc.property(listAndShuffle, ([list, shuffled]) => {
        const x = new MemberStates(POOL, [], undefined);
        const y = new MemberStates(POOL, [], undefined);
        x.merge(list);
        for (const e of shuffled) y.merge([e]);
        y.merge(list); // idempotent
        const sorted = (w: MemberStateWire[]) => [...w].sort((p, q) => (p[0] < q[0] ? -1 : 1));
        expect(sorted(y.wire())).toEqual(sorted(x.wire()));
        // what is kept is superseded by nothing that was heard
        for (const [id, st] of x.entries()) {
          for (const [eid, es, ev] of list) {
            if (eid === id) expect(supersedes({ status: es, version: ev }, st)).toBe(false);
          }
        }
      }),
    );
  });

  it('persists every change and reloads it, over the command line view', () => {
    const file = tempFile();
    const s = new MemberStates(POOL, members(['a', 'b', 'c']), file);
    s.set('d', 'joining');
    s.merge([
      ['d', 'member', 2],
      ['a', 'leaving', 1],
    ]);
    const again = new MemberStates(POOL, members(['a', 'b', 'c']), file);
    expect(again.get('d')).toEqual({ status: 'member', version: 2 });
    expect(again.get('a')).toEqual({ status: 'leaving', version: 1 });
    expect(again.readRingMembers()).toEqual(['a', 'b', 'c', 'd']);
    expect(again.targetRingMembers()).toEqual(['b', 'c', 'd']);
    expect(JSON.parse(readFileSync(file, 'utf8')).members).toHaveLength(4);
  });

  it('refuses to start from a corrupt table rather than guess', () => {
    const file = tempFile();
    writeFileSync(file, '{"members": [');
    expect(() => new MemberStates(POOL, members(['a']), file)).toThrow(/not valid JSON/);
  });
});

describe('Placement while ranges move', () => {
  const keys = Array.from({ length: 400 }, (_, i) => `key-${i}`);

  it('a joining node: reads stay on the old owners, writes add the joiner and need one more ack', () => {
    const s = new MemberStates(POOL, members(['a', 'b', 'c', 'd']), undefined);
    const p = new Placement(s, 16, 3, 'a');
    const before = keys.map((k) => p.readOwners(k));
    s.merge([['e', 'joining', 1]]);
    p.rebuild();
    let gained = 0;
    keys.forEach((k, i) => {
      expect(p.readOwners(k)).toEqual(before[i]);
      const target = p.targetOwners(k);
      if (target.includes('e')) {
        gained++;
        expect(p.gainers(k)).toEqual(['e']);
        expect(p.writeOwners(k)).toEqual([...before[i]!, 'e']);
        expect(p.extraAcks(k)).toBe(1);
        // exactly one old owner is displaced
        expect(before[i]!.filter((o) => !target.includes(o))).toHaveLength(1);
      } else {
        expect(p.writeOwners(k)).toEqual(before[i]);
        expect(p.extraAcks(k)).toBe(0);
      }
    });
    expect(gained).toBeGreaterThan(0);
    s.merge([['e', 'member', 2]]);
    p.rebuild();
    keys.forEach((k) => {
      expect(p.readOwners(k)).toEqual(p.targetOwners(k));
      expect(p.extraAcks(k)).toBe(0);
    });
  });

  it('a leaving node: it keeps reads and writes until it has left; its successor gains its keys', () => {
    const s = new MemberStates(POOL, members(['a', 'b', 'c', 'd']), undefined);
    const p = new Placement(s, 16, 3, 'a');
    s.merge([['b', 'leaving', 1]]);
    p.rebuild();
    for (const k of keys) {
      const old = p.readOwners(k);
      const target = p.targetOwners(k);
      expect(target).not.toContain('b');
      expect(p.writeOwners(k)).toEqual(old.includes('b') ? [...old, ...p.gainers(k)] : old);
      expect(p.gainers(k)).toHaveLength(old.includes('b') ? 1 : 0);
    }
    s.merge([['b', 'left', 2]]);
    p.rebuild();
    for (const k of keys) expect(p.readOwners(k)).not.toContain('b');
  });
});
