/**
 * Property tests: a simulated PN-counter (adds take effect at an instant inside their interval;
 * indeterminate ones maybe later, maybe never). Brute force over the subsets of the adds that
 * may or may not have happened says which values are possible; the checker's bounds must never
 * reject a possible value, and must reject planted impossible ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkConvergence } from './convergence.js';
import { checkCounter } from './counter.js';
import { HistoryBuilder } from './testing/replicated-history.js';
import { type PlannedOp, plannedRun } from './testing/replicated-sim.js';

const delta = (op: PlannedOp) => Math.floor(op.pick2 * 9) - 3; // -3..5

/** Every sum `base + Σ S` over subsets S of `maybe`. */
function possibleSums(base: number, maybe: number[]): Set<number> {
  let sums = new Set([base]);
  for (const d of maybe) sums = new Set([...sums, ...[...sums].map((s) => s + d)]);
  return sums;
}

interface Run {
  history: ReturnType<HistoryBuilder['build']>;
  adds: PlannedOp[];
  reads: Array<{ op: PlannedOp; value: number }>;
  finals: Record<string, number>;
}

/**
 * reads: 'linearizable' (everything that took effect before the read's instant) or
 * 'eventual' (a random subset of that). finalError: added to one replica's final value.
 */
function simulate(plan: PlannedOp[], mode: 'linearizable' | 'eventual', finalError: number): Run {
  const b = new HistoryBuilder();
  const adds: PlannedOp[] = [];
  const reads: Run['reads'] = [];
  for (const op of plan) {
    const base = { process: op.process, key: 'c', at: op.at, end: op.end, status: op.status };
    if (op.kind < 60) {
      adds.push(op);
      b.op({ ...base, f: 'add', value: delta(op) });
    } else if (op.status === 'ok') {
      const t = op.effect!;
      let value = 0;
      for (const a of plan.filter((p) => p.kind < 60)) {
        if (a.effect === null || a.effect >= t) continue;
        if (mode === 'eventual' && (a.id * 31 + op.id * 17) % 3 === 0) continue;
        value += delta(a);
      }
      reads.push({ op, value });
      b.op({ ...base, f: 'read', result: value });
    } else b.op({ ...base, f: 'read' });
  }
  const total = plan
    .filter((p) => p.kind < 60 && p.effect !== null)
    .reduce((s, p) => s + delta(p), 0);
  const end = Math.max(0, ...plan.map((p) => p.end)) + 100;
  const finals = { n1: total, n2: total + finalError, n3: total };
  b.round(
    0,
    end,
    end + 1,
    Object.fromEntries(Object.entries(finals).map(([n, v]) => [n, { c: { value: v } }])),
  );
  return { history: b.build(), adds, reads, finals };
}

describe('counter bounds against brute force', () => {
  it('never rejects a possible final value; rejects exactly those outside the possible range', () => {
    fc.assert(
      fc.property(plannedRun(3, 6), fc.integer({ min: -6, max: 6 }), (plan, error) => {
        const run = simulate(plan, 'linearizable', error);
        const r = checkCounter(run.history);
        const acked = run.adds.filter((a) => a.status === 'ok').reduce((s, a) => s + delta(a), 0);
        const maybe = run.adds
          .filter((a) => a.status === 'info' || a.status === 'pending')
          .map(delta);
        const possible = possibleSums(acked, maybe);
        const min = Math.min(...possible);
        const max = Math.max(...possible);
        for (const f of r.keys[0]!.final) {
          if (possible.has(f.value)) expect(f.inBounds).toBe(true);
          // The bounds are the hull of the possible sums: exact at the ends.
          expect(f.inBounds).toBe(f.value >= min && f.value <= max);
        }
        expect(r.keys[0]!.agree).toBe(error === 0);
        const anyOut = r.keys[0]!.final.some((f) => !f.inBounds);
        expect(r.valid).toBe(error === 0 && !anyOut && r.impossibleReadCount === 0);
        // Linearizable reads are never out of bounds.
        expect(r.outOfBoundsReadCount).toBe(0);
        expect(checkCounter(run.history, { linearizable: true }).outOfBoundsReadCount).toBe(0);
        // The convergence checker agrees on the final values.
        const c = checkConvergence(run.history, { type: 'counter' });
        expect(c.outOfBounds.length).toBe(r.keys[0]!.final.filter((f) => !f.inBounds).length);
      }),
      { numRuns: 300 },
    );
  });

  it('flags a read out of the real-time bounds exactly when no subset explains it', () => {
    fc.assert(
      fc.property(plannedRun(3, 6), (plan) => {
        const run = simulate(plan, 'eventual', 0);
        const r = checkCounter(run.history, { linearizable: true });
        expect(r.impossibleReadCount).toBe(0);
        let expected = 0;
        for (const { op, value } of run.reads) {
          const mustCount = run.adds.filter((a) => a.status === 'ok' && a.end < op.at);
          const mayCount = run.adds.filter(
            (a) => a.status !== 'fail' && a.at <= op.end && !mustCount.includes(a),
          );
          const base = mustCount.reduce((s, a) => s + delta(a), 0);
          const sums = possibleSums(base, mayCount.map(delta));
          // The bounds are the hull of the sums the read may see.
          if (!(value >= Math.min(...sums) && value <= Math.max(...sums))) expected++;
        }
        expect(r.outOfBoundsReadCount).toBe(expected);
        expect(r.valid).toBe(expected === 0);
      }),
      { numRuns: 300 },
    );
  });
});
