/**
 * A brute-force linearizability oracle for tiny histories (≤ 8 operations), independent of the
 * search: it tries every order consistent with real time, placing each indeterminate operation
 * (return at +Infinity) somewhere after its call or nowhere, and stepping the model. No
 * partitioning, no memoisation, no pruning, no dropping of read-only operations.
 */
import type { Model, Operation } from '../porcupine/index.js';

export function bruteForceLinearizable<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
): boolean {
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
      // b may come next unless some unplaced finite operation returned strictly before b's call.
      let allowed = true;
      for (let a = 0; a < n && allowed; a++) {
        if (a !== b && !placed[a] && finite[a] && ops[a]!.return < ops[b]!.call) allowed = false;
      }
      if (!allowed) continue;
      const next = model.step(state, ops[b]!.input, ops[b]!.output);
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
  ops: readonly Operation<I, O>[],
  order: readonly number[],
): boolean {
  const seen = new Set<number>();
  let state = model.init();
  for (const b of order) {
    if (seen.has(b) || b < 0 || b >= ops.length) return false;
    // Every operation that returned strictly before b's call must already be placed.
    for (let a = 0; a < ops.length; a++) {
      if (a !== b && !seen.has(a) && ops[a]!.return < ops[b]!.call) return false;
    }
    const next = model.step(state, ops[b]!.input, ops[b]!.output);
    if (next === undefined) return false;
    state = next;
    seen.add(b);
  }
  return true;
}
