/**
 * Property tests: simulated eventual kv stores.
 *
 * - lww: each write takes a timestamp from its node's clock (the instant it takes effect plus
 *   the node's skew); the replicas keep the greatest. With no skew the checker must report
 *   nothing lost, whatever the concurrency; with skew it must report exactly the acknowledged
 *   writes that began after the winner had completed, each with a timestamp below the winner's.
 * - siblings: a causal store: a write carries the writer's last read of the key as its context
 *   and replaces exactly those values; concurrent ones stay siblings. The checker must report
 *   nothing lost for it, and must report a planted loss of a write nothing could supersede.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkConvergence } from './convergence.js';
import { HistoryBuilder } from './testing/replicated-history.js';
import { type PlannedOp, plannedRun } from './testing/replicated-sim.js';

const KEYS = ['k0', 'k1'];
const keyOfOp = (op: PlannedOp) => (op.pick2 < 0.5 ? 'k0' : 'k1');
const keyOf = keyOfOp;
const isWrite = (op: PlannedOp) => op.kind < 55;
const valueName = (op: PlannedOp) => `v${op.id}`;
const MS = 1000;

function finalRound(b: HistoryBuilder, plan: PlannedOp[], states: Record<string, unknown>): void {
  const end = Math.max(0, ...plan.map((p) => p.end)) + 100;
  b.nemesis('heal-all-stop', end - 10);
  b.round(0, end, end + 1, { n1: states, n2: states });
}

describe('lww convergence against a simulated store with node clocks', () => {
  const run = (plan: PlannedOp[], skews: number[], oneKey = false) => {
    const keyOf = (op: PlannedOp) => (oneKey ? 'k0' : keyOfOp(op));
    const b = new HistoryBuilder();
    const ts = (op: PlannedOp) => Math.round((op.effect! + skews[Math.floor(op.pick * 3)]!) * MS);
    for (const op of plan) {
      const base = {
        process: op.process,
        key: keyOf(op),
        at: op.at,
        end: op.end,
        status: op.status,
      };
      if (isWrite(op)) {
        const extra = op.status === 'ok' ? { extra: { ts: ts(op) } } : {};
        b.op({ ...base, f: 'write', value: valueName(op), ...extra });
      } else b.op({ ...base, f: 'read', ...(op.status === 'ok' ? { result: [] } : {}) });
    }
    const winners = new Map<string, PlannedOp>();
    for (const op of plan) {
      if (!isWrite(op) || op.effect === null) continue;
      const w = winners.get(keyOf(op));
      if (w === undefined || ts(op) > ts(w) || (ts(op) === ts(w) && op.id > w.id)) {
        winners.set(keyOf(op), op);
      }
    }
    const states: Record<string, unknown> = {};
    for (const [k, w] of winners) states[k] = { values: [valueName(w)], ts: [ts(w)] };
    finalRound(b, plan, states);
    return { history: b.build(), winners, ts, keyOf };
  };

  it('reports nothing lost when clocks agree', () => {
    fc.assert(
      fc.property(plannedRun(4, 6), (plan) => {
        const r = checkConvergence(run(plan, [0, 0, 0]).history, { type: 'lww' });
        expect(r.lost).toEqual([]);
        expect(r.emptiedKeys).toEqual([]);
        expect(r.valid).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reports exactly the acknowledged writes that began after the winner completed', () => {
    // One key and skews as large as the run: an inversion in most runs.
    const skews = fc.array(fc.integer({ min: -60, max: 60 }), { minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(plannedRun(4, 8), skews, (plan, skew) => {
        const { history, winners, ts, keyOf } = run(plan, skew, true);
        const r = checkConvergence(history, { type: 'lww' });
        const expected: string[] = [];
        for (const op of plan) {
          if (!isWrite(op) || op.status !== 'ok') continue;
          const w = winners.get(keyOf(op))!;
          if (w !== op && w.status === 'ok' && w.end < op.at) expected.push(valueName(op));
        }
        expect(r.lost.map((l) => l.value).sort()).toEqual(expected.sort());
        for (const l of r.lost) {
          expect(l.winnerOlderInRealTime).toBe(true);
          const lostOp = plan.find((p) => valueName(p) === l.value)!;
          // It lost by timestamp: the store's own ordering explains the loss.
          expect(l.winner!.ts).toBe(ts(winners.get(keyOf(lostOp))!));
          expect(l.timestampsInverted).toBe(true);
        }
        expect(r.valid).toBe(expected.length === 0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('siblings convergence against a simulated causal store', () => {
  const run = (plan: PlannedOp[]) => {
    const state = new Map<string, Set<string>>(KEYS.map((k) => [k, new Set()]));
    // `${client}/${key}` → the client's ok reads so far (op id, values seen)
    const reads = new Map<string, Array<{ id: number; seen: string[] }>>();
    const readResults = new Map<number, string[]>();
    const byEffect = plan.filter((p) => p.effect !== null).sort((a, b) => a.effect! - b.effect!);
    for (const op of byEffect) {
      const s = state.get(keyOf(op))!;
      const ctxKey = `${op.client}/${keyOf(op)}`;
      const mine = reads.get(ctxKey) ?? [];
      if (isWrite(op)) {
        // The context is the client's last read before this write in program order (an
        // indeterminate write may take effect after the client's later reads).
        const ctx = mine.filter((r) => r.id < op.id).at(-1)?.seen ?? [];
        for (const v of ctx) s.delete(v);
        s.add(valueName(op));
      } else if (op.status === 'ok') {
        const seen = [...s];
        readResults.set(op.id, seen);
        reads.set(
          ctxKey,
          [...mine, { id: op.id, seen }].sort((a, b) => a.id - b.id),
        );
      }
    }
    return { state, readResults };
  };
  const build = (
    plan: PlannedOp[],
    finals: Map<string, Set<string>>,
    reads: Map<number, string[]>,
  ) => {
    const b = new HistoryBuilder();
    for (const op of plan) {
      const base = {
        process: op.process,
        key: keyOf(op),
        at: op.at,
        end: op.end,
        status: op.status,
      };
      if (isWrite(op)) b.op({ ...base, f: 'write', value: valueName(op) });
      else
        b.op({ ...base, f: 'read', ...(op.status === 'ok' ? { result: reads.get(op.id) } : {}) });
    }
    const states: Record<string, unknown> = {};
    for (const [k, vs] of finals) states[k] = { values: [...vs] };
    finalRound(b, plan, states);
    return b.build();
  };

  it('reports nothing lost for a correct store', () => {
    fc.assert(
      fc.property(plannedRun(4, 6), (plan) => {
        const { state, readResults } = run(plan);
        const r = checkConvergence(build(plan, state, readResults), { type: 'siblings' });
        expect(r.lost).toEqual([]);
        expect(r.valid).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reports a planted loss of the last-invoked acknowledged write', () => {
    fc.assert(
      fc.property(plannedRun(4, 6), (plan) => {
        const { state, readResults } = run(plan);
        for (const key of KEYS) {
          const writes = plan.filter((p) => isWrite(p) && keyOf(p) === key && p.status !== 'fail');
          const lastAt = Math.max(...writes.map((w) => w.at));
          const latest = writes.filter((w) => w.at === lastAt);
          if (latest.length !== 1 || latest[0]!.status !== 'ok') continue;
          const victim = valueName(latest[0]!);
          // Nothing was invoked after it: a correct store always keeps it.
          expect(state.get(key)!.has(victim)).toBe(true);
          const finals = new Map(state);
          finals.set(key, new Set([...state.get(key)!].filter((v) => v !== victim)));
          const r = checkConvergence(build(plan, finals, readResults), { type: 'siblings' });
          expect(r.lost.map((l) => l.value)).toEqual([victim]);
          expect(r.valid).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});
