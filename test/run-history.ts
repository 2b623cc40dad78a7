/**
 * Reading a run's history in end-to-end tests of real systems: the client ops paired, the
 * nemesis events, a fault's window, and plain evidence of stale reads located in the history
 * (no checker involved), to say in a test where an anomaly came from.
 */
import { join } from 'node:path';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import { pairOperations } from '../checker/history/pair.js';

/** A nemesis event as recorded: its f, value, fault index, times and error. */
export type NemesisRecord = HistoryEvent & {
  f: string;
  value?: unknown;
  fault?: number;
  startedTime?: number;
  error?: string;
};

export interface RunHistory {
  events: HistoryEvent[];
  ops: ClientOp[];
  nemesis: NemesisRecord[];
}

/** A run folder's history: its events, the client ops paired, the nemesis events. */
export async function readRun(dir: string): Promise<RunHistory> {
  const { events } = await readJsonlHistory(join(dir, 'history.jsonl'));
  return {
    events,
    ops: pairOperations(events),
    nemesis: events.filter((e) => e.process === 'nemesis') as NemesisRecord[],
  };
}

/**
 * The first fault opened by `open` and closed by `close`: from the start event's time to the
 * stop's start (ns on the history's clock), with the start event itself.
 */
export function faultWindow(
  run: RunHistory,
  open = 'partition-start',
  close = 'partition-stop',
): { start: NemesisRecord; from: number; until: number } {
  const start = run.nemesis.find((e) => e.f === open);
  if (start === undefined) throw new Error(`no ${open} event in the history`);
  const stop = run.nemesis.find((e) => e.f === close && e.fault === start.fault);
  return { start, from: start.time, until: stop?.startedTime ?? Number.POSITIVE_INFINITY };
}

/** The node a completion says served the op (`node`, or a system's own field such as `servedBy`). */
export const servedOn = (o: ClientOp, field = 'node'): string | undefined =>
  (o.completion as Record<string, unknown> | undefined)?.[field] as string | undefined;

/**
 * What a node cut off from the others did within a window: the reads it served, the writes
 * and cas the other nodes committed, and the stale reads, those it served after such a write
 * had completed (nothing crosses the cut, so none of them can have seen it).
 */
export function cutOffReads(
  ops: readonly ClientOp[],
  node: string,
  window: { from: number; until: number },
): { reads: ClientOp[]; writesElsewhere: ClientOp[]; stale: ClientOp[] } {
  const within = (o: ClientOp) =>
    o.status === 'ok' && o.call > window.from && o.return < window.until;
  const reads = ops.filter((o) => o.f === 'read' && within(o) && servedOn(o) === node);
  const writesElsewhere = ops.filter(
    (o) => (o.f === 'write' || o.f === 'cas') && within(o) && servedOn(o) !== node,
  );
  const stale = reads.filter((rd) => writesElsewhere.some((w) => w.return < rd.call));
  return { reads, writesElsewhere, stale };
}

/** The value a write or cas wrote (cas: its `to`). */
const written = (o: ClientOp): unknown =>
  o.f === 'cas' ? (o.invoke.value as [unknown, unknown])[1] : o.invoke.value;

export interface StaleRead {
  read: ClientOp;
  /** The node that served the read, and the one that took the newer write. */
  readNode: string;
  writeNode: string;
}

const nodeOf = (o: ClientOp) => String(servedOn(o));

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
