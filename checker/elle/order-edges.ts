/**
 * Process and realtime edges. Process: consecutive txns of one process (session order); an
 * info txn may take effect at any later time, so nothing follows it. Realtime: T1 completed
 * before T2 was invoked. Linking every such pair would be quadratic; as Elle does, each txn is
 * linked only to the txns that completed most recently before its invocation, and a completed
 * txn leaves that frontier once something that follows it has completed too (transitivity
 * keeps the order).
 */
import type { EdgeCollector } from './graph.js';
import { PROCESS, REALTIME, type Txn } from './types.js';

export function addProcessEdges(txns: readonly Txn[], edges: EdgeCollector): void {
  // Ids follow invocations (or completions, without invocations): within one process, the
  // order in which it ran them.
  const last = new Map<Txn['process'], Txn>();
  for (const t of txns) {
    if (t.status === 'fail') continue;
    const prev = last.get(t.process);
    if (prev !== undefined && prev.status === 'ok') edges.add(prev.id, t.id, PROCESS);
    last.set(t.process, t);
  }
}

/** Needs invocations: txns without an invokeIndex take no part. */
export function addRealtimeEdges(txns: readonly Txn[], edges: EdgeCollector): void {
  // The history's events by index: id + 1 for an invocation, -(id + 1) for an ok completion.
  let end = 0;
  for (const t of txns) end = Math.max(end, (t.invokeIndex ?? -1) + 1, (t.completeIndex ?? -1) + 1);
  const at = new Int32Array(end);
  for (const t of txns) {
    if (t.status === 'fail' || t.invokeIndex === undefined) continue;
    at[t.invokeIndex] = t.id + 1;
    if (t.status === 'ok' && t.completeIndex !== undefined) at[t.completeIndex] = -(t.id + 1);
  }
  let frontier: number[] = [];
  // What the frontier was when each txn was invoked: snapshots[from[id] .. to[id]).
  const from = new Int32Array(txns.length);
  const to = new Int32Array(txns.length);
  let snapshots = new Int32Array(1024);
  let used = 0;
  const leaving = new Uint8Array(txns.length);
  for (let i = 0; i < end; i++) {
    const v = at[i]!;
    if (v > 0) {
      const id = v - 1;
      if (used + frontier.length > snapshots.length) {
        const bigger = new Int32Array(2 * (used + frontier.length));
        bigger.set(snapshots);
        snapshots = bigger;
      }
      from[id] = used;
      for (const f of frontier) {
        edges.add(f, id, REALTIME);
        snapshots[used++] = f;
      }
      to[id] = used;
    } else if (v < 0) {
      const id = -v - 1;
      for (let j = from[id]!; j < to[id]!; j++) leaving[snapshots[j]!] = 1;
      frontier = frontier.filter((f) => leaving[f] === 0);
      for (let j = from[id]!; j < to[id]!; j++) leaving[snapshots[j]!] = 0;
      frontier.push(id);
    }
  }
}
