import { describe, expect, it } from 'vitest';
import { EdgeCollector } from './graph.js';
import { addProcessEdges, addRealtimeEdges } from './order-edges.js';
import { cyclicComponents } from './scc.js';
import { PROCESS, REALTIME, type Txn } from './types.js';

const txn = (id: number, process: number, status: Txn['status'], at: [number, number?]): Txn => ({
  id,
  process,
  status,
  ops: [],
  invokeIndex: at[0],
  ...(at[1] !== undefined ? { completeIndex: at[1] } : {}),
});

function edgesOf(build: (e: EdgeCollector) => void, nodes: number, mask: number) {
  const c = new EdgeCollector();
  build(c);
  const g = c.build(nodes, mask);
  const out: [number, number][] = [];
  for (let v = 0; v < nodes; v++) {
    for (let i = g.offsets[v]!; i < g.offsets[v + 1]!; i++) out.push([v, g.targets[i]!]);
  }
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

describe('realtime edges', () => {
  it('links each txn to the latest ones that completed before it began, not further back', () => {
    // T0 [0,1], T1 [2,3], T2 [4,7], T3 [5,6], T4 [8,9]
    const txns = [
      txn(0, 0, 'ok', [0, 1]),
      txn(1, 0, 'ok', [2, 3]),
      txn(2, 1, 'ok', [4, 7]),
      txn(3, 0, 'ok', [5, 6]),
      txn(4, 0, 'ok', [8, 9]),
    ];
    expect(edgesOf((e) => addRealtimeEdges(txns, e), 5, REALTIME)).toEqual([
      [0, 1],
      [1, 2],
      [1, 3],
      [2, 4],
      [3, 4],
    ]);
  });

  it('gives failed txns no edges and info txns no outgoing ones', () => {
    const txns = [txn(0, 0, 'fail', [0, 1]), txn(1, 1, 'info', [2, 3]), txn(2, 2, 'ok', [4, 5])];
    expect(edgesOf((e) => addRealtimeEdges(txns, e), 3, REALTIME)).toEqual([]);
    const after = [txn(0, 0, 'ok', [0, 1]), txn(1, 1, 'info', [2, 3])];
    expect(edgesOf((e) => addRealtimeEdges(after, e), 2, REALTIME)).toEqual([[0, 1]]);
  });
});

describe('process edges', () => {
  it('follows each process in order and stops after an info txn', () => {
    const txns = [
      txn(0, 0, 'ok', [0, 1]),
      txn(1, 1, 'ok', [2, 3]),
      txn(2, 0, 'fail', [4, 5]),
      txn(3, 0, 'info', [6, 7]),
      txn(4, 0, 'ok', [8, 9]),
    ];
    expect(edgesOf((e) => addProcessEdges(txns, e), 5, PROCESS)).toEqual([[0, 3]]);
  });
});

describe('cyclicComponents', () => {
  it('finds the components with cycles only', () => {
    const c = new EdgeCollector();
    for (const [a, b] of [
      [0, 1],
      [1, 2],
      [2, 0],
      [2, 3],
      [3, 4],
      [4, 3],
      [5, 5],
    ]) {
      c.add(a!, b!, 1);
    }
    expect(cyclicComponents(c.build(6, 1))).toEqual([
      [3, 4],
      [0, 1, 2],
    ]);
  });
});
