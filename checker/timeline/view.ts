import type { ClientOp } from '../history/client-op.js';
import { keyName } from '../models/values.js';
import type { LinearizationStep, PartitionInfo } from '../porcupine/types.js';
import type { TimelinePartition } from './types.js';

/** One bar of the timeline. */
export interface ViewOp {
  /** Index into the checked ops. */
  idx: number;
  description: string;
  /** 1-based position in the drawn linearization, when the op is in it. */
  order?: number;
  /** The model state after this op in the linearization. */
  state?: string;
  /** Where the path crosses this bar (a time within [call, return]). */
  at?: number;
  stuck: boolean;
}

/** What one drawing shows: a window of a partition's ops, with its linearization evidence. */
export interface View {
  heading: string;
  /** Plain sentences shown above the drawing: what the evidence says and what was left out. */
  notes: string[];
  ops: ViewOp[];
  /** Time range drawn. */
  from: number;
  to: number;
}

/** A readable description of an op from the history alone (used when the model gave none). */
export function describeClientOp(op: ClientOp): string {
  const key = op.key !== undefined ? ` ${String(op.key)}` : '';
  const arg = op.invoke.value;
  const out = op.completion?.value;
  const shown = (v: unknown): string => (v === undefined ? '' : ` ${compact(v)}`);
  if (op.status === 'ok' && out !== undefined && !sameJson(arg, out)) {
    return `${op.f}${key}${shown(arg)} → ${compact(out)}`;
  }
  return `${op.f}${key}${shown(arg ?? out)}`;
}

export function compact(v: unknown, max = 80): string {
  let s: string;
  try {
    s = v === undefined ? 'undefined' : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function sameJson(a: unknown, b: unknown): boolean {
  return compact(a, 1e6) === compact(b, 1e6);
}

function finiteMax(ops: readonly ClientOp[], idxs: Iterable<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const i of idxs) {
    const op = ops[i]!;
    m = Math.max(m, op.call, Number.isFinite(op.return) ? op.return : op.call);
  }
  return m;
}

/**
 * Places each step of a linearization at a time inside its op's interval, never going back in
 * time: halfway between the earliest and the latest placement that keep the order. (Both bounds
 * are monotone, so their midpoint is too.)
 */
function linearizationPoints(
  steps: readonly LinearizationStep[],
  info: PartitionInfo<unknown, unknown>,
  horizon: number,
): number[] {
  const n = steps.length;
  const early = new Array<number>(n);
  const late = new Array<number>(n);
  let t = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < n; k++) {
    t = Math.max(t, info.operations[steps[k]!.op]!.call);
    early[k] = t;
  }
  // An op still running (info, pending) is placed no later than the prefix's last earliest
  // point, so the path ends where the prefix does, not at the end of the history.
  const end = Math.min(horizon, n > 0 ? early[n - 1]! : horizon);
  t = Number.POSITIVE_INFINITY;
  for (let k = n - 1; k >= 0; k--) {
    const op = info.operations[steps[k]!.op]!;
    t = Math.min(t, Number.isFinite(op.return) ? op.return : end);
    late[k] = Math.max(t, early[k]!);
  }
  return early.map((e, k) => (e + late[k]!) / 2);
}

/** The ops of one partition: those the checker saw, plus same-key ops it dropped (fail, info reads). */
function partitionMembers(ops: readonly ClientOp[], p: TimelinePartition): number[] {
  const members = new Set<number>();
  for (const o of p.info?.operations ?? []) if (o.id !== undefined) members.add(o.id);
  // Partition names are the models' key names (1 and "1" differ), so match by the same name.
  const names = new Set(p.keys ?? [p.key]);
  ops.forEach((op, i) => {
    if (members.has(i)) return;
    if (p.key === '' || (op.key !== undefined && names.has(keyName(op.key)))) members.add(i);
  });
  return [...members].sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
}

/**
 * The view of a failing (or undecided) partition: its ops in a window of at most `maxOps`
 * around the point where the longest linearization stops, ops still running across the window,
 * the path of the linearization and the ops that could not be placed.
 */
export function anomalyView(ops: readonly ClientOp[], p: TimelinePartition, maxOps: number): View {
  const info = p.info;
  const members = partitionMembers(ops, p);
  const keyName = p.key === '' ? 'the whole history' : `key ${JSON.stringify(p.key)}`;
  const verdict =
    p.valid === false ? 'not linearizable' : p.valid === true ? 'linearizable' : 'unknown';
  const notes: string[] = [];
  const longest = info?.longest[0] ?? [];
  const byIdx = new Map<number, Partial<ViewOp>>();

  // Evidence from the checker: order numbers, states, path points and the stuck ops.
  const horizon = finiteMax(ops, members) + 1;
  if (info) {
    const points = linearizationPoints(longest, info, horizon);
    longest.forEach((step, k) => {
      const id = info.operations[step.op]?.id;
      if (id !== undefined) byIdx.set(id, { order: k + 1, state: step.state, at: points[k]! });
    });
    for (const s of info.stuck) {
      const id = info.operations[s]?.id;
      if (id !== undefined) byIdx.set(id, { ...byIdx.get(id), stuck: true });
    }
    info.operations.forEach((o, i) => {
      if (o.id === undefined) return;
      const d = info.descriptions[i];
      if (d !== undefined) byIdx.set(o.id, { ...byIdx.get(o.id), description: d });
    });
    const lastState = longest.length > 0 ? longest[longest.length - 1]!.state : info.initialState;
    const stuckDescr = info.stuck.map((s) => info.descriptions[s] ?? '?');
    if (p.valid === true) {
      const skipped = info.operations.length - longest.length;
      notes.push(
        `A linearization of the history is drawn: ${longest.length} ops, final state ${lastState}.` +
          (skipped > 0
            ? ` ${skipped} op${skipped === 1 ? '' : 's'} with an unknown outcome never took effect in it.`
            : ''),
      );
    } else
      notes.push(
        `The longest linearizable prefix has ${longest.length} of ${info.operations.length} ops ` +
          `(model state after it: ${lastState}).` +
          (stuckDescr.length > 0
            ? ` None of these can be placed next: ${stuckDescr.slice(0, 8).join('; ')}` +
              (stuckDescr.length > 8 ? ` and ${stuckDescr.length - 8} more.` : '.')
            : ''),
      );
    if (info.longest.length > 1) {
      notes.push(
        `${info.longest.length} distinct longest prefixes were found; the first is drawn.`,
      );
    }
  } else {
    notes.push('The checker gave no evidence for this partition (it was not run in verbose mode).');
  }

  // The window: centred where the linearization stops (the first stuck op, by call time).
  let centre = members.findIndex((i) => byIdx.get(i)?.stuck === true);
  if (centre < 0) centre = members.findIndex((i) => byIdx.get(i)?.order === undefined);
  if (centre < 0) centre = members.length;
  const before = Math.floor(maxOps * 0.75);
  let lo = Math.max(0, centre - before);
  const hi = Math.min(members.length, lo + maxOps);
  lo = Math.max(0, hi - maxOps);
  const chosen = new Set(members.slice(lo, hi));
  for (const i of members) if (byIdx.get(i)?.stuck) chosen.add(i);
  const from = Math.min(...[...chosen].map((i) => ops[i]!.call));
  const to = finiteMax(ops, chosen);
  // Ops invoked before the window that are still running inside it (long or indeterminate).
  const spanning = members
    .slice(0, lo)
    .filter((i) => ops[i]!.return > from)
    .sort((a, b) => (byIdx.get(b)?.order ?? -1) - (byIdx.get(a)?.order ?? -1));
  const extraCap = Math.max(10, Math.floor(maxOps / 5));
  for (const i of spanning.slice(0, extraCap)) chosen.add(i);

  const left = members.length - chosen.size;
  if (left > 0) {
    const earlier = members.slice(0, lo).filter((i) => !chosen.has(i)).length;
    const later = members.slice(hi).filter((i) => !chosen.has(i)).length;
    notes.push(
      `Showing ${chosen.size} of the ${members.length} ops of ${keyName}: left out ${earlier} ` +
        `earlier and ${later} later ops` +
        (spanning.length > extraCap
          ? ` (including ${spanning.length - extraCap} earlier ops still running in the window).`
          : '.'),
    );
  }

  const viewOps: ViewOp[] = [...chosen]
    .sort((a, b) => ops[a]!.call - ops[b]!.call || a - b)
    .map((idx) => {
      const e = byIdx.get(idx) ?? {};
      return {
        idx,
        description: e.description ?? describeClientOp(ops[idx]!),
        stuck: e.stuck === true,
        ...(e.order !== undefined ? { order: e.order } : {}),
        ...(e.state !== undefined ? { state: e.state } : {}),
        ...(e.at !== undefined ? { at: e.at } : {}),
      };
    });
  const reason = p.reason !== undefined ? ` (${p.reason})` : '';
  return { heading: `${keyName}: ${verdict}${reason}`, notes, ops: viewOps, from, to };
}

/** The view of a whole (valid) history: every op up to `maxOps`, in call order. */
export function wholeView(ops: readonly ClientOp[], maxOps: number, heading: string): View {
  const order = ops.map((_, i) => i).sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
  const shown = order.slice(0, maxOps);
  const notes: string[] = [];
  if (shown.length < ops.length) {
    notes.push(
      `Showing the first ${shown.length} of ${ops.length} ops; left out the ${ops.length - shown.length} later ones.`,
    );
  }
  const from = shown.length > 0 ? Math.min(...shown.map((i) => ops[i]!.call)) : 0;
  const to = shown.length > 0 ? finiteMax(ops, shown) : 1;
  return {
    heading,
    notes,
    ops: shown.map((idx) => ({ idx, description: describeClientOp(ops[idx]!), stuck: false })),
    from,
    to,
  };
}
