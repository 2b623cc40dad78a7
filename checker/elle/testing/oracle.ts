/**
 * A brute-force judge for tiny txn histories: is there a serial order of the txns (every ok
 * one, any subset of the info ones; failed ones never) in which each ok txn reads exactly what
 * the serial execution gives it? With `realtime`, a txn may only be placed once every ok txn
 * that completed before its invocation has been. An ok rw-register read of nil reads the initial
 * (unwritten) value.
 */
import type { Key } from '../../history/event.js';
import type { TxnHistory } from '../txns.js';
import type { Scalar, Txn, Workload } from '../types.js';

type State = Map<Key, Scalar[] | Scalar>;

function run(t: Txn, state: State, workload: Workload): State | undefined {
  const next: State = new Map(state);
  for (const op of t.ops) {
    if (op.f === 'append') {
      const list = (next.get(op.key) as Scalar[] | undefined) ?? [];
      next.set(op.key, [...list, op.value]);
    } else if (op.f === 'w') {
      next.set(op.key, op.value);
    } else if (t.status === 'ok') {
      const now = next.get(op.key);
      if (workload === 'list-append') {
        // A nil list read says nothing (the checker skips it too).
        if (op.value === null) continue;
        const list = (now as Scalar[] | undefined) ?? [];
        const read = op.value as readonly Scalar[];
        if (list.length !== read.length || list.some((v, i) => v !== read[i])) return undefined;
      } else if ((now ?? null) !== op.value) {
        return undefined;
      }
    }
  }
  return next;
}

export function serialOrderExists(
  history: TxnHistory,
  workload: Workload,
  realtime = false,
): boolean {
  const txns = history.txns.filter((t) => t.status !== 'fail');
  const mustPlace = txns.filter((t) => t.status === 'ok').length;
  // Ok txns that completed before each txn was invoked.
  const before = txns.map((t) =>
    !realtime || t.invokeIndex === undefined
      ? []
      : txns
          .map((u, j) => ({ u, j }))
          .filter(
            ({ u }) =>
              u.status === 'ok' &&
              u.completeIndex !== undefined &&
              u.completeIndex < t.invokeIndex!,
          )
          .map(({ j }) => j),
  );
  const placed = new Array<boolean>(txns.length).fill(false);
  const search = (state: State, okPlaced: number): boolean => {
    if (okPlaced === mustPlace) return true;
    for (let i = 0; i < txns.length; i++) {
      if (placed[i] || before[i]!.some((j) => !placed[j])) continue;
      const next = run(txns[i]!, state, workload);
      if (next === undefined) continue;
      placed[i] = true;
      const found = search(next, okPlaced + (txns[i]!.status === 'ok' ? 1 : 0));
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(new Map(), 0);
}
