import { describe, expect, it } from 'vitest';
import { findCycles } from './cycles.js';
import { EdgeCollector } from './graph.js';
import { PROCESS, REALTIME, RW, WR, WW } from './types.js';

function graph(edges: [number, number, number][]): EdgeCollector {
  const c = new EdgeCollector();
  for (const [a, b, k] of edges) c.add(a, b, k);
  return c;
}
const kinds = (steps: { kind: number }[]) => steps.map((s) => s.kind);

describe('findCycles', () => {
  it('returns the shortest cycle of a class in a component', () => {
    // A 4-cycle of ww through 0..3, and a 2-cycle 2 ⇄ 3.
    const g = graph([
      [0, 1, WW],
      [1, 2, WW],
      [2, 3, WW],
      [3, 0, WW],
      [3, 2, WW],
    ]);
    const r = findCycles(4, g, { pairs: [{ base: 'G0', suffix: '' }] });
    expect(r.cycles).toHaveLength(1);
    expect(r.cycles[0]!.steps.map((s) => [s.from, s.to])).toEqual([
      [2, 3],
      [3, 2],
    ]);
  });

  it('classifies by the edges on the cycle, exactly', () => {
    // 0 →rw 1 →wr 0 is G-single; 0 →rw 1 →rw 2 →ww 0 is G2-item.
    const g = graph([
      [0, 1, RW],
      [1, 0, WR],
      [1, 2, RW],
      [2, 0, WW],
    ]);
    const r = findCycles(3, g, {
      pairs: [
        { base: 'G0', suffix: '' },
        { base: 'G1c', suffix: '' },
        { base: 'G-single', suffix: '' },
        { base: 'G2-item', suffix: '' },
      ],
    });
    expect(r.cycles.map((c) => c.anomaly)).toEqual(['G-single', 'G2-item']);
    expect(kinds(r.cycles[1]!.steps)).toEqual([RW, RW, WW]);
  });

  it('tells rw edges that follow each other from ones that do not', () => {
    // 0 →rw 1 →ww 2 →rw 3 →ww 0: G-nonadjacent; 4 →rw 5 →rw 4: G2-item only.
    const g = graph([
      [0, 1, RW],
      [1, 2, WW],
      [2, 3, RW],
      [3, 0, WW],
      [4, 5, RW],
      [5, 4, RW],
    ]);
    const pairs = [
      { base: 'G-nonadjacent', suffix: '' },
      { base: 'G2-item', suffix: '' },
    ] as const;
    expect(findCycles(6, g, { pairs }).cycles.map((c) => [c.anomaly, c.steps.length])).toEqual([
      ['G-nonadjacent', 4],
      ['G2-item', 4],
      ['G2-item', 2],
    ]);
    // Wrapping around: 0 →rw 1 →ww 2 →rw 0 has two rw edges in a row.
    const wrap = graph([
      [0, 1, RW],
      [1, 2, WW],
      [2, 0, RW],
    ]);
    expect(findCycles(3, wrap, { pairs }).cycles.map((c) => c.anomaly)).toEqual(['G2-item']);
  });

  it('needs a process edge for -process and a realtime edge for -realtime', () => {
    const g = graph([
      [0, 1, PROCESS],
      [1, 0, RW],
      [2, 3, REALTIME],
      [3, 2, RW],
    ]);
    const r = findCycles(4, g, {
      pairs: [
        { base: 'G-single', suffix: '' },
        { base: 'G-single', suffix: '-process' },
        { base: 'G-single', suffix: '-realtime' },
      ],
    });
    expect(r.cycles.map((c) => [c.anomaly, c.steps[0]!.from])).toEqual([
      ['G-single-process', 0],
      ['G-single-realtime', 2],
    ]);
  });

  it('reports a class whose search ran out of budget', () => {
    const g = graph([
      [0, 1, WW],
      [1, 0, WW],
    ]);
    expect(findCycles(2, g, { pairs: [{ base: 'G0', suffix: '' }], budget: 0 })).toEqual({
      cycles: [],
      timedOut: ['G0'],
    });
  });
});
