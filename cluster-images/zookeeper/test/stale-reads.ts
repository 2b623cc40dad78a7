import type { ClientOp } from '../../../checker/history/client-op.js';
import type { HistoryEvent } from '../../../checker/history/event.js';
import { pairOperations } from '../../../checker/history/pair.js';

/** The value a write or cas wrote (cas: its `to`). */
const written = (o: ClientOp): unknown =>
  o.f === 'cas' ? (o.invoke.value as [unknown, unknown])[1] : o.invoke.value;

export interface StaleRead {
  read: ClientOp;
  /** The node that served the read, and the one that took the newer write. */
  readNode: string;
  writeNode: string;
}

const nodeOf = (o: ClientOp) => String((o.completion as { node?: unknown } | undefined)?.node);

/**
 * Reads that certainly returned an overwritten value: the read returned v, and a write of
 * another value that was invoked after v's write completed had itself completed before the
 * read was invoked (the register workload writes unique values). No checker involved: plain
 * evidence from the history, to say where the staleness came from.
 */
export function staleReads(events: readonly HistoryEvent[]): StaleRead[] {
  const ops = pairOperations(events);
  const writes = ops.filter((o) => (o.f === 'write' || o.f === 'cas') && o.status === 'ok');
  const byValue = new Map(writes.map((w) => [JSON.stringify(written(w)), w]));
  const out: StaleRead[] = [];
  for (const r of ops) {
    if (r.f !== 'read' || r.status !== 'ok') continue;
    const v = (r.completion as { value?: unknown }).value;
    const source = byValue.get(JSON.stringify(v));
    if (source === undefined) continue;
    const newer = writes.find(
      (w) => w !== source && w.key === r.key && w.call > source.return && w.return < r.call,
    );
    if (newer !== undefined) out.push({ read: r, readNode: nodeOf(r), writeNode: nodeOf(newer) });
  }
  return out;
}

/**
 * The ops the linearizability checker got stuck at (its evidence in results.json), each with
 * the completion that ended it: where it found no order that explains the history.
 */
export function stuckOps(
  results: unknown,
  events: readonly HistoryEvent[],
): { description: string; f: string; type: string; node: string | undefined }[] {
  const lin = (results as { checkers?: { linearizability?: unknown } }).checkers?.linearizability;
  const partitions = (lin as { partitions?: unknown } | undefined)?.partitions;
  if (!Array.isArray(partitions)) return [];
  const out = [];
  for (const p of partitions) {
    const stuck = (p as { evidence?: { stuck?: unknown } }).evidence?.stuck;
    if (!Array.isArray(stuck)) continue;
    for (const s of stuck as { index?: unknown; description?: unknown }[]) {
      const invoke = events.find((e) => e.index === s.index);
      if (invoke === undefined) continue;
      const completion = events.find(
        (e) => e.process === invoke.process && e.index > invoke.index && e.type !== 'invoke',
      ) as (HistoryEvent & { node?: string }) | undefined;
      out.push({
        description: String(s.description),
        f: invoke.f,
        type: completion?.type ?? 'pending',
        node: completion?.node,
      });
    }
  }
  return out;
}
