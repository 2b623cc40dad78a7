import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LinkFault } from '../../core/cluster.js';
import {
  netemArgs,
  netemFromProbe,
  qdiscCommands,
  qdiscTree,
  tbfBurstBytes,
  userSpaceParts,
} from './link-qdisc.js';

describe('tc command construction', () => {
  it('bandwidth alone is a root token bucket, netem or not', () => {
    for (const netem of ['present', 'absent'] as const) {
      expect(qdiscCommands([], qdiscTree({ rateKbit: 2000 }, netem))).toEqual([
        'tc qdisc replace dev eth0 root handle 1: tbf rate 2000kbit burst 16000 latency 100ms',
      ]);
    }
    // 10 ms at 100 Mbit/s = 125 000 bytes.
    expect(tbfBurstBytes(100_000)).toBe(125_000);
  });

  it('with netem: delay, jitter as a centred uniform range, loss in percent, tbf as its child', () => {
    const tree = qdiscTree({ delayMs: 100, jitterMs: 40, loss: 0.05, rateKbit: 512 }, 'present');
    expect(qdiscCommands([], tree)).toEqual([
      'tc qdisc replace dev eth0 root handle 1: netem delay 120ms 20ms loss 5%',
      'tc qdisc replace dev eth0 parent 1:1 handle 10: tbf rate 512kbit burst 16000 latency 100ms',
    ]);
    expect(netemArgs({ delayMs: 30 })).toBe('netem delay 30ms');
    expect(netemArgs({ loss: 0.125 })).toBe('netem loss 12.5%');
    expect(netemArgs({})).toBe('');
  });

  it("netem's delay D ± J covers exactly [delay, delay + jitter]", () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.integer({ min: 1, max: 10_000 }), (delayMs, jitterMs) => {
        const m = /^netem delay ([\d.]+)ms ([\d.]+)ms$/.exec(netemArgs({ delayMs, jitterMs }));
        expect(m).not.toBeNull();
        const [d, j] = [Number(m![1]), Number(m![2])];
        expect(d - j).toBeCloseTo(delayMs, 6);
        expect(d + j).toBeCloseTo(delayMs + jitterMs, 6);
      }),
    );
  });

  it('without netem: no netem qdisc; delay, jitter and loss stay with the proxy and iptables', () => {
    const fault = { delayMs: 100, jitterMs: 40, loss: 0.05, rateKbit: 512 };
    expect(qdiscTree(fault, 'absent')).toEqual([
      ['root', '1:', 'tbf rate 512kbit burst 16000 latency 100ms'],
    ]);
    expect(userSpaceParts(fault, 'absent')).toEqual({ delayMs: 100, jitterMs: 40, loss: 0.05 });
    expect(userSpaceParts(fault, 'present')).toEqual({});
    expect(qdiscTree({ delayMs: 100, loss: 0.5 }, 'absent')).toEqual([]);
  });

  it('refuses a rate below what tc can shape, naming the field', () => {
    expect(() => qdiscTree({ rateKbit: 0 }, 'absent')).toThrow(/rateKbit/);
    expect(() => qdiscTree({ rateKbit: Number.NaN }, 'present')).toThrow(/rateKbit/);
  });

  it('reads the probe: exit 0 = netem present', () => {
    expect(netemFromProbe(0)).toBe('present');
    expect(netemFromProbe(2)).toBe('absent');
  });
});

/**
 * A model of the kernel's qdisc table as tc changes it: `replace` of an existing qdisc at the
 * same handle works in place only for the same kind (else the kernel answers "Invalid qdisc
 * name"), a child needs its parent, and deleting the root removes the whole tree.
 */
function runTc(lines: readonly string[], start: Map<string, string>): Map<string, string> {
  const state = new Map(start);
  for (const line of lines) {
    const del = /^tc qdisc del dev eth0 root$/.exec(line);
    if (del) {
      if (state.size === 0) throw new Error('no qdisc to delete');
      state.clear();
      continue;
    }
    const m = /^tc qdisc replace dev eth0 (root|parent 1:1) handle (\S+) (\S+)( .*)?$/.exec(line);
    if (m === null) throw new Error(`unexpected line ${line}`);
    const [, parent, handle, kind, rest] = m;
    const key = `${parent} ${handle}`;
    const existing = state.get(key);
    if (existing !== undefined && existing.split(' ')[0] !== kind) {
      throw new Error('Invalid qdisc name');
    }
    if (parent !== 'root' && !state.has('root 1:')) throw new Error('no parent');
    state.set(key, `${kind}${rest ?? ''}`);
  }
  return state;
}

const asState = (tree: ReturnType<typeof qdiscTree>) =>
  new Map(tree.map(([p, h, a]) => [`${p} ${h}`, a]));

const faultArb: fc.Arbitrary<LinkFault> = fc.record(
  {
    delayMs: fc.nat(500),
    jitterMs: fc.nat(500),
    loss: fc.double({ min: 0, max: 1, noNaN: true }),
    rateKbit: fc.integer({ min: 8, max: 1_000_000 }),
  },
  { requiredKeys: [] },
);

describe('changing link faults', () => {
  it('from any fault in force to any other, the commands leave exactly the new qdiscs', () => {
    fc.assert(
      fc.property(
        faultArb,
        faultArb,
        fc.constantFrom('present' as const, 'absent' as const),
        (a, b, netem) => {
          const before = qdiscTree(a, netem);
          const after = qdiscTree(b, netem);
          const s0 = runTc(qdiscCommands([], before), new Map());
          expect(s0).toEqual(asState(before));
          expect(runTc(qdiscCommands(before, after), s0)).toEqual(asState(after));
          expect(qdiscCommands(after, after)).toEqual([]);
        },
      ),
    );
  });
});
