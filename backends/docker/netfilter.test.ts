import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Grudge } from '../../core/cluster.js';
import { LINK_CHAIN, linkRules, PARTITION_CHAIN, partitionRules } from './netfilter.js';

const NODES = ['n1', 'n2', 'n3', 'n4'];
const ip = (n: string) => `10.0.0.${NODES.indexOf(n) + 10}`;

interface Packet {
  src: string;
  dst: string;
  syn: boolean;
}

/**
 * A small model of how netfilter walks the chain for one packet: rules in order, the first
 * whose matches all hold decides (DROP, or RETURN = leave the chain, i.e. accept here).
 */
function verdict(rules: string, packet: Packet): 'DROP' | 'ACCEPT' {
  for (const line of rules.split('\n')) {
    if (!line.startsWith('-A ')) continue;
    const t = line.split(/\s+/);
    const opt = (name: string) => {
      const i = t.indexOf(name);
      return i < 0 ? undefined : t[i + 1];
    };
    const s = opt('-s');
    const d = opt('-d');
    if (s !== undefined && s !== packet.src) continue;
    if (d !== undefined && d !== packet.dst) continue;
    if (t.includes('--tcp-flags') && !packet.syn) continue;
    return opt('-j') === 'DROP' ? 'DROP' : 'ACCEPT';
  }
  return 'ACCEPT';
}

/** A packet from a to b crosses a's OUTPUT and then b's INPUT, both through the chain. */
function delivered(grudge: Grudge, a: string, b: string, syn: boolean): boolean {
  const packet = { src: ip(a), dst: ip(b), syn };
  const onA = partitionRules(a, grudge, ip, NODES);
  const onB = partitionRules(b, grudge, ip, NODES);
  return verdict(onA, packet) === 'ACCEPT' && verdict(onB, packet) === 'ACCEPT';
}

const grudgeArb = fc
  .array(fc.tuple(fc.constantFrom(...NODES), fc.subarray(NODES)), { maxLength: 6 })
  .map((pairs) => {
    const g: Grudge = {};
    for (const [n, others] of pairs) g[n] = others.filter((o) => o !== n);
    return g;
  });

describe('partition rules', () => {
  it('drop data from b to a exactly when grudge[a] names b, on every pair', () => {
    fc.assert(
      fc.property(grudgeArb, (grudge) => {
        for (const a of NODES) {
          for (const b of NODES) {
            if (a === b) continue;
            const cut = (grudge[b] ?? []).includes(a);
            expect(delivered(grudge, a, b, false)).toBe(!cut);
            // Handshakes pass a one-way cut, and nothing passes a two-way cut.
            const back = (grudge[a] ?? []).includes(b);
            expect(delivered(grudge, a, b, true)).toBe(!(cut && back));
          }
        }
      }),
    );
  });

  it('touch only their own chain of the filter table', () => {
    fc.assert(
      fc.property(grudgeArb, fc.constantFrom(...NODES), (grudge, node) => {
        const rules = partitionRules(node, grudge, ip, NODES);
        const lines = rules.split('\n').filter(Boolean);
        expect(lines[0]).toBe('*filter');
        expect(lines.at(-1)).toBe('COMMIT');
        expect(rules).not.toMatch(/\*nat|-F|-X|INPUT|OUTPUT/);
        for (const l of lines.slice(1, -1)) {
          expect(
            l.startsWith(`-A ${PARTITION_CHAIN} `) || l === `:${PARTITION_CHAIN} - [0:0]`,
          ).toBe(true);
        }
      }),
    );
  });

  it('an empty grudge leaves an empty chain (heal)', () => {
    expect(partitionRules('n1', {}, ip, NODES)).toBe(
      `*filter\n:${PARTITION_CHAIN} - [0:0]\nCOMMIT\n`,
    );
  });
});

describe('link rules', () => {
  it('drop at the asked probability on traffic to each peer, and clear at 0', () => {
    const r = linkRules(0.25, ['10.0.0.11', '10.0.0.12']);
    expect(r.match(/--probability 0\.25 -j DROP/g)).toHaveLength(2);
    expect(r).toContain('-d 10.0.0.12');
    expect(linkRules(0, ['10.0.0.11'])).toBe(`*filter\n:${LINK_CHAIN} - [0:0]\nCOMMIT\n`);
    expect(() => linkRules(1.5, [])).toThrow(/loss/);
    expect(() => linkRules(Number.NaN, [])).toThrow(/loss/);
  });
});
