import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NODES, subnetCandidates, subnetOf } from './subnet.js';

describe('run subnets', () => {
  it('never offer a subnet in use, and offer every free one once', () => {
    fc.assert(
      fc.property(fc.string(), fc.uniqueArray(fc.integer({ min: 0, max: 255 })), (id, used) => {
        const usedCidrs = new Set(used.map((u) => subnetOf(u).cidr));
        const c = subnetCandidates(id, usedCidrs);
        expect(new Set(c).size).toBe(c.length);
        expect(c.length).toBe(256 - used.length);
        for (const third of c) expect(usedCidrs.has(subnetOf(third).cidr)).toBe(false);
      }),
    );
  });

  it('give distinct node addresses inside the subnet, apart from the gateway', () => {
    const s = subnetOf(7);
    const all = Array.from({ length: MAX_NODES }, (_, i) => s.address(i));
    expect(new Set(all).size).toBe(MAX_NODES);
    expect(all).not.toContain(s.gateway);
    for (const a of all) expect(a.startsWith('10.213.7.')).toBe(true);
    expect(() => s.address(MAX_NODES)).toThrow();
    expect(() => subnetOf(256)).toThrow();
  });
});
