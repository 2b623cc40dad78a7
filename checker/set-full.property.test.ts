/**
 * Property tests: a simulated replicated OR-set (3 replicas, delayed delivery, reads served by
 * one replica, optional removes) with planted losses (an add dropped from every replica),
 * planted divergence (dropped from some) and planted unexpected elements. The expected verdicts
 * are computed by brute force from the simulated states, straight from the definitions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkConvergence } from './convergence.js';
import { checkSetFull } from './set-full.js';
import { HistoryBuilder } from './testing/replicated-history.js';
import { type PlannedOp, plannedRun } from './testing/replicated-sim.js';

const REPLICAS = ['n1', 'n2', 'n3'];
const UNEXPECTED = 99_999;

interface SimRead {
  key: string;
  at: number;
  end: number;
  elements: number[];
  client: boolean;
}

interface Sim {
  builder: HistoryBuilder;
  finals: Record<string, Record<string, number[]>>;
  reads: SimRead[];
  adds: Array<{ op: PlannedOp; key: string; element: number }>;
  removed: Set<number>;
}

function simulate(
  plan: PlannedOp[],
  drops: Array<{ target: number; replicas: number[] }>,
  plantUnexpected: boolean,
): Sim {
  const keyOf = (op: PlannedOp) => (op.pick2 < 0.5 ? 's0' : 's1');
  const adds: Sim['adds'] = [];
  const removes: Array<{ op: PlannedOp; element: number }> = [];
  const kinds = new Map<number, 'add' | 'remove' | 'read'>();
  for (const op of plan) {
    if (op.kind < 50) {
      kinds.set(op.id, 'add');
      adds.push({ op, key: keyOf(op), element: op.id + 1 });
    } else if (op.kind < 65) {
      const candidates = adds.filter((a) => a.op.at < op.at && a.key === keyOf(op));
      if (candidates.length === 0) kinds.set(op.id, 'read');
      else {
        kinds.set(op.id, 'remove');
        removes.push({ op, element: candidates[Math.floor(op.pick * candidates.length)]!.element });
      }
    } else kinds.set(op.id, 'read');
  }
  const delay = (element: number, r: number) => ((element * 7 + r * 3) % 5) * 1.5;
  const removedAt = (element: number): number => {
    const add = adds.find((a) => a.element === element)!;
    let t = Number.POSITIVE_INFINITY;
    for (const rm of removes) {
      if (rm.element === element && rm.op.effect !== null && add.op.effect !== null) {
        if (rm.op.effect > add.op.effect) t = Math.min(t, rm.op.effect);
      }
    }
    return t;
  };
  const visible = (key: string, r: number, t: number): number[] =>
    adds
      .filter(
        (a) =>
          a.key === key &&
          a.op.effect !== null &&
          a.op.effect + delay(a.element, r) <= t &&
          removedAt(a.element) > t,
      )
      .map((a) => a.element);

  const builder = new HistoryBuilder();
  const reads: SimRead[] = [];
  let planted = !plantUnexpected;
  for (const op of plan) {
    const kind = kinds.get(op.id)!;
    const key = keyOf(op);
    const base = { process: op.process, key, at: op.at, end: op.end, status: op.status };
    if (kind === 'add') builder.op({ ...base, f: 'add', value: op.id + 1 });
    else if (kind === 'remove') {
      builder.op({ ...base, f: 'remove', value: removes.find((r) => r.op === op)!.element });
    } else if (op.status === 'ok') {
      const elements = visible(key, Math.floor(op.pick * 3), op.effect!);
      if (!planted) {
        elements.push(UNEXPECTED);
        planted = true;
      }
      builder.op({ ...base, f: 'read', result: elements });
      reads.push({ key, at: op.at, end: op.end, elements, client: true });
    } else builder.op({ ...base, f: 'read' });
  }
  const end = Math.max(0, ...plan.map((op) => op.end)) + 100;
  builder.nemesis('heal-all-stop', end - 50);
  const dropped = new Map<number, Set<number>>();
  for (const d of drops) {
    if (adds.length === 0) break;
    const element = adds[d.target % adds.length]!.element;
    const set = dropped.get(element) ?? new Set<number>();
    for (const r of d.replicas) set.add(r);
    dropped.set(element, set);
  }
  const finals: Sim['finals'] = {};
  REPLICAS.forEach((node, r) => {
    finals[node] = {};
    for (const key of ['s0', 's1']) {
      const elements = visible(key, r, end).filter((e) => !dropped.get(e)?.has(r));
      finals[node]![key] = elements;
      reads.push({ key, at: end, end: end + 1, elements, client: false });
    }
  });
  const roundKeys = Object.fromEntries(
    REPLICAS.map((n) => [
      n,
      Object.fromEntries(Object.entries(finals[n]!).map(([k, e]) => [k, { elements: e }])),
    ]),
  );
  builder.round(0, end, end + 1, roundKeys);
  const removed = new Set(removes.filter((r) => r.op.status !== 'fail').map((r) => r.element));
  return { builder, finals, reads, adds, removed };
}

const drops = fc.array(
  fc.record({
    target: fc.nat(),
    replicas: fc.subarray([0, 1, 2], { minLength: 1 }),
  }),
  { maxLength: 3 },
);

describe('set-full against a simulated replicated set', () => {
  it('flags exactly the planted losses and unexpected elements; recovered, stale and stable by brute force', () => {
    fc.assert(
      fc.property(plannedRun(3, 8), drops, fc.boolean(), (plan, dropPlan, unexpected) => {
        const sim = simulate(plan, dropPlan, unexpected);
        const history = sim.builder.build();
        const r = checkSetFull(history);

        const inAnyFinal = (key: string, e: number) =>
          REPLICAS.some((n) => sim.finals[n]![key]!.includes(e));
        const expectedLost = sim.adds
          .filter((a) => a.op.status === 'ok' && !inAnyFinal(a.key, a.element))
          .filter((a) => !sim.removed.has(a.element))
          .map((a) => a.element)
          .sort((x, y) => x - y);
        expect(r.lost.map((l) => l.element as number).sort((x, y) => x - y)).toEqual(expectedLost);

        const readAnywhere = (key: string, e: number) =>
          sim.reads.some((rd) => rd.key === key && rd.elements.includes(e));
        const plantedUnexpected = sim.reads.some((rd) => rd.elements.includes(UNEXPECTED));
        expect(r.unexpected.map((u) => u.element)).toEqual(plantedUnexpected ? [UNEXPECTED] : []);
        const expectedRecovered = sim.adds
          .filter(
            (a) =>
              (a.op.status === 'info' || a.op.status === 'pending') &&
              readAnywhere(a.key, a.element),
          )
          .map((a) => a.element)
          .sort((x, y) => x - y);
        expect(r.recovered.map((x) => x.element as number).sort((x, y) => x - y)).toEqual(
          expectedRecovered,
        );
        expect(r.valid).toBe(expectedLost.length === 0 && !plantedUnexpected);

        // Stale reads, straight from the definition.
        let stale = 0;
        for (const rd of sim.reads) {
          if (!rd.client) continue;
          for (const a of sim.adds) {
            if (a.key !== rd.key || a.op.status !== 'ok' || !(a.op.end < rd.at)) continue;
            if (rd.elements.includes(a.element)) continue;
            if (
              sim.reads.some(
                (l) => l.key === rd.key && l.at > rd.end && l.elements.includes(a.element),
              )
            ) {
              stale++;
            }
          }
        }
        expect(r.staleReadCount).toBe(stale);

        // Stable visibility: reads by invoke time (ties: history order); the first read from
        // which every read holds the element.
        const latencies: number[] = [];
        for (const key of ['s0', 's1']) {
          const ordered = sim.reads
            .map((rd, i) => ({ rd, i }))
            .filter(({ rd }) => rd.key === key)
            .sort((x, y) => x.rd.at - y.rd.at || x.i - y.i)
            .map(({ rd }) => rd);
          for (const a of sim.adds) {
            if (a.key !== key || a.op.status === 'fail') continue;
            let from = -1;
            for (
              let i = ordered.length - 1;
              i >= 0 && ordered[i]!.elements.includes(a.element);
              i--
            )
              from = i;
            if (from >= 0) latencies.push(Math.max(0, ordered[from]!.at - a.op.at));
          }
        }
        latencies.sort((x, y) => x - y);
        expect(r.stableLatencyMs?.count ?? 0).toBe(latencies.length);
        if (latencies.length > 0) expect(r.stableLatencyMs!.max).toBe(latencies.at(-1));

        // The convergence checker on the same run: same losses, divergence by comparison.
        const c = checkConvergence(history, { type: 'set' });
        expect(c.lost.map((l) => l.value as number).sort((x, y) => x - y)).toEqual(expectedLost);
        const sameEverywhere = (key: string) =>
          REPLICAS.every(
            (n) =>
              JSON.stringify([...sim.finals[n]![key]!].sort()) ===
              JSON.stringify([...sim.finals.n1![key]!].sort()),
          );
        const divergent = ['s0', 's1'].filter((k) => !sameEverywhere(k)).length;
        expect(c.divergentKeyCount).toBe(divergent);
        expect(c.valid).toBe(divergent === 0 && expectedLost.length === 0);
      }),
      { numRuns: 300 },
    );
  });
});
