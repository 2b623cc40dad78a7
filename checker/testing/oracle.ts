/**
 * Brute-force linearizability oracles for tiny histories (≤ 8 operations), independent of the
 * search: they try every order consistent with real time and with each client's own order,
 * placing each indeterminate operation (return at +Infinity) somewhere after its call or
 * nowhere. No partitioning, no memoisation, no pruning, no dropping of read-only operations.
 *
 * `bruteForceLinearizable` steps a porcupine model; `historyOracle` runs client operations
 * through a test's reference implementation and compares values with its own equality
 * (./same-value.ts), so it judges the models' value handling too.
 */
import type { ClientOp } from '../history/client-op.js';
import type { Model, Operation } from '../porcupine/index.js';
import type { HistoryKind } from './histories.js';

/**
 * Whether a comes before b in their client's order: same client, a returned (finitely) no
 * later than b's call, and a is first by (call, return, position) (zero-length ones tie).
 */
function clientBefore(ops: readonly Operation<unknown, unknown>[], a: number, b: number): boolean {
  const x = ops[a]!;
  const y = ops[b]!;
  if (x.clientId !== y.clientId || !Number.isFinite(x.return) || x.return > y.call) return false;
  return (
    x.call < y.call ||
    (x.call === y.call && (x.return < y.return || (x.return === y.return && a < b)))
  );
}

export function bruteForceLinearizable<S, I, O>(
  model: Model<S, I, O>,
  opsIn: readonly Operation<I, O>[],
): boolean {
  const ops = opsIn as readonly Operation<unknown, unknown>[];
  if (ops.length > 10)
    throw new Error(`the oracle is for tiny histories, got ${ops.length} operations`);
  const n = ops.length;
  const placed = new Array<boolean>(n).fill(false);
  const finite = ops.map((o) => o.return !== Number.POSITIVE_INFINITY);
  let remaining = finite.filter(Boolean).length;

  const search = (state: S): boolean => {
    if (remaining === 0) return true;
    for (let b = 0; b < n; b++) {
      if (placed[b]) continue;
      // b may come next unless some unplaced finite operation returned strictly before b's
      // call, or comes before b in their client's order.
      let allowed = true;
      for (let a = 0; a < n && allowed; a++) {
        if (a === b || placed[a] || !finite[a]) continue;
        if (ops[a]!.return < ops[b]!.call || clientBefore(ops, a, b)) allowed = false;
      }
      if (!allowed) continue;
      const next = model.step(state, opsIn[b]!.input, opsIn[b]!.output);
      if (next === undefined) continue;
      placed[b] = true;
      if (finite[b]) remaining--;
      const ok = search(next);
      placed[b] = false;
      if (finite[b]) remaining++;
      if (ok) return true;
    }
    return false;
  };
  return search(model.init());
}

/** Whether `order` (indices into ops) is a legal sequential run respecting real time. */
export function isLinearizablePrefix<S, I, O>(
  model: Model<S, I, O>,
  opsIn: readonly Operation<I, O>[],
  order: readonly number[],
): boolean {
  const ops = opsIn as readonly Operation<unknown, unknown>[];
  const seen = new Set<number>();
  let state = model.init();
  for (const b of order) {
    if (seen.has(b) || b < 0 || b >= ops.length) return false;
    // Every operation that returned strictly before b's call, or comes before b in their
    // client's order, must already be placed.
    for (let a = 0; a < ops.length; a++) {
      if (a === b || seen.has(a)) continue;
      if (ops[a]!.return < ops[b]!.call || clientBefore(ops, a, b)) return false;
    }
    const next = model.step(state, opsIn[b]!.input, opsIn[b]!.output);
    if (next === undefined) return false;
    state = next;
    seen.add(b);
  }
  return true;
}

/**
 * Whether client operations (as paired from a history) are linearizable for `kind`'s
 * reference implementation. fail operations never happened; info and pending ones may have
 * happened at any time after their invoke, or not at all; ok ones happened between their
 * invoke and completion, with the completion's value (as `kind.agrees` judges it). A process
 * runs its operations in turn: one invoked after another completed (on the same process, later
 * in `ops`, which is in invoke order) comes after it, whatever the times say.
 */
export function historyOracle(kind: HistoryKind, ops: readonly ClientOp[]): boolean {
  const live = ops.filter((o) => o.status !== 'fail');
  const n = live.length;
  if (n > 10) throw new Error(`the oracle is for tiny histories, got ${n} operations`);
  const done = live.map((o) => o.status === 'ok');
  const placed = new Array<boolean>(n).fill(false);
  let remaining = done.filter(Boolean).length;
  // mustPrecede[a][b]: a completed ok before b was invoked, by the clock or by its process.
  const mustPrecede = live.map((a, i) =>
    live.map(
      (b, j) => done[i]! && i !== j && (a.return < b.call || (a.process === b.process && i < j)),
    ),
  );
  const search = (state: unknown): boolean => {
    if (remaining === 0) return true;
    for (let b = 0; b < n; b++) {
      if (placed[b]) continue;
      if (live.some((_, a) => !placed[a] && mustPrecede[a]![b])) continue;
      const op = live[b]!;
      const r = kind.executor.step(state, {
        f: op.f,
        ...(op.key !== undefined ? { key: op.key } : {}),
        value: op.invoke.value,
      });
      if (r === undefined) continue;
      if (done[b] && !kind.agrees(op.f, r.output, op.completion?.value)) continue;
      placed[b] = true;
      if (done[b]) remaining--;
      const ok = search(r.state);
      placed[b] = false;
      if (done[b]) remaining++;
      if (ok) return true;
    }
    return false;
  };
  return search(kind.executor.init);
}
