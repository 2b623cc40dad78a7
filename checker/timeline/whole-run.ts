import { gzipSync } from 'node:zlib';
import type { ClientOp } from '../history/client-op.js';
import { keyName } from '../models/values.js';
import type { LeaderSpan } from './leader.js';
import type { NemesisInterval } from './nemesis.js';
import { compact } from './view.js';

/**
 * The data of the whole-run view, packed for the page: op columns as LEB128 varints, gzipped and
 * base64'd (the page unpacks them with the browser's DecompressionStream), and a small JSON head
 * with the dictionaries, faults and leaders. A million ops take a few bytes each.
 */

/** Most ops embedded; past it, ok ops are thinned evenly (never the first, last or non-ok ones). */
export const DEFAULT_MAX_EMBEDDED_OPS = 1_000_000;
/** Most distinct value texts kept; the rest show as "…". */
const MAX_VALUES = 50_000;
const STATUS_CODE = { ok: 0, info: 1, fail: 2, pending: 3 } as const;

export interface WholeRunFault {
  kind: string;
  label: string;
  /** Time units of the page (µs, or event order). */
  start: number;
  /** -1: never healed. */
  end: number;
  interval: boolean;
  /** The final heal of the run, drawn apart from the faults. */
  heal: boolean;
  detail: string;
  colour?: string;
}

export interface WholeRunHead {
  /** `us`: times are microseconds since the run's start; `order`: event positions. */
  unit: 'us' | 'order';
  /** Ops in the history, and ops embedded (fewer when thinned). */
  total: number;
  n: number;
  /** The last time of the run, for the full view. */
  end: number;
  /** Row labels; `rowProcs[r]` lists each process of row r from its first op's time. */
  procs: string[];
  rowProcs: [number, string][][];
  fs: string[];
  keys: string[];
  values: string[];
  faults: WholeRunFault[];
  leaders: { node: string | null; start: number; end: number }[];
  /** Keys of failing partitions, with where their evidence points (ops' embedded positions). */
  anomalies: { key: string; stuck: number[]; from: number; to: number }[];
  /** Packed columns (see `packColumns`). */
  data: string;
}

/** A growing byte buffer of LEB128 varints (unsigned). */
class Varints {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  push(v: number): void {
    if (this.length + 10 > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    let x = Math.max(0, Math.round(v));
    while (x >= 128) {
      this.buf[this.length++] = (x % 128) | 128;
      x = Math.floor(x / 128);
    }
    this.buf[this.length++] = x;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

function processOrder(a: ClientOp['process'], b: ClientOp['process']): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a.localeCompare(b);
}

/** Ops to embed, in call order: all of them, or thinned to `max` keeping every non-ok op. */
function chooseOps(ops: readonly ClientOp[], max: number, keep: ReadonlySet<number>): number[] {
  const order = ops.map((_, i) => i).sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
  if (order.length <= max) return order;
  const must = order.filter(
    (i, k) => ops[i]!.status !== 'ok' || keep.has(i) || k === 0 || k === order.length - 1,
  );
  const room = Math.max(0, max - must.length);
  const optional = order.length - must.length;
  const stride = optional / Math.max(1, room);
  const out: number[] = [];
  let next = 0;
  let seen = 0;
  for (const [k, i] of order.entries()) {
    if (ops[i]!.status !== 'ok' || keep.has(i) || k === 0 || k === order.length - 1) {
      out.push(i);
      continue;
    }
    if (seen >= next && out.length < max) {
      out.push(i);
      next += stride;
    }
    seen++;
  }
  return out;
}

export interface WholeRunInput {
  ops: readonly ClientOp[];
  nemesis: readonly NemesisInterval[];
  leaders: readonly LeaderSpan[];
  unit: 'ns' | 'order';
  /** The heal's kind (drawn as the heal, not as a fault). */
  healKind: string;
  colours: ReadonlyMap<string, string>;
  /** Failing keys: their stuck ops, and the window their drawing shows (times of the ops). */
  anomalies: readonly { key: string; stuck: readonly number[]; window?: [number, number] }[];
  maxOps?: number;
  processName: (p: ClientOp['process']) => string;
}

/** Builds the whole-run head with its packed columns. */
export function wholeRunData(input: WholeRunInput): WholeRunHead {
  const { ops, unit } = input;
  const scale = unit === 'ns' ? 1e-3 : 1;
  const t = (x: number) => Math.round(x * scale);
  const keep = new Set(input.anomalies.flatMap((a) => a.stuck));
  const chosen = chooseOps(ops, input.maxOps ?? DEFAULT_MAX_EMBEDDED_OPS, keep);
  const position = new Map(chosen.map((i, k) => [i, k]));
  const dict = () => {
    const list: string[] = [];
    const index = new Map<string, number>();
    return {
      list,
      id(s: string, cap = Number.POSITIVE_INFINITY): number {
        let i = index.get(s);
        if (i === undefined) {
          if (list.length >= cap) return 0;
          i = list.length;
          list.push(s);
          index.set(s, i);
        }
        return i;
      },
    };
  };
  const procs = dict();
  const fs = dict();
  const keys = dict();
  keys.id('');
  const values = dict();
  values.id('…'); // 0: a value past the dictionary's cap
  values.id(''); // 1: no value
  // Rows: a process runs one op at a time and a worker takes a new process after an op of
  // unknown outcome, so processes whose lifetimes do not overlap share a row (first fit).
  const life = new Map<ClientOp['process'], { start: number; end: number }>();
  for (const op of ops) {
    const last = Number.isFinite(op.return)
      ? op.return
      : op.status === 'pending'
        ? Number.POSITIVE_INFINITY
        : (op.completion?.time ?? op.call);
    const l = life.get(op.process);
    if (l === undefined) life.set(op.process, { start: op.call, end: last });
    else {
      l.start = Math.min(l.start, op.call);
      l.end = Math.max(l.end, last);
    }
  }
  const rowEnds: number[] = [];
  const rowProcs: [number, string][][] = [];
  const rowOf = new Map<ClientOp['process'], number>();
  const byStart = [...life].sort((a, b) => a[1].start - b[1].start || processOrder(a[0], b[0]));
  for (const [p, l] of byStart) {
    let r = rowEnds.findIndex((e) => e < l.start);
    if (r < 0) {
      r = rowEnds.length;
      rowProcs.push([]);
    }
    rowEnds[r] = l.end;
    rowOf.set(p, r);
    rowProcs[r]!.push([t(l.start), input.processName(p)]);
  }
  for (const list of rowProcs) {
    const names = list.map(([, n]) => n);
    procs.id(names.length === 1 ? names[0]! : `${names[0]}, +${names.length - 1} later`);
  }

  const bytes = new Varints();
  let prev = 0;
  let end = 0;
  for (const i of chosen) {
    const op = ops[i]!;
    const call = t(op.call);
    bytes.push(call - prev);
    prev = call;
    // Duration + 1 up to the completion (an info op's too: drawn as of unknown outcome);
    // 0: never completed (pending: runs to the end).
    const last = Number.isFinite(op.return) ? op.return : op.completion?.time;
    end = Math.max(end, t(last ?? op.call));
    bytes.push(last === undefined ? 0 : t(last) - call + 1);
    bytes.push(rowOf.get(op.process)!);
    bytes.push(fs.id(op.f) * 4 + STATUS_CODE[op.status]);
    bytes.push(op.key === undefined ? 0 : keys.id(keyName(op.key)));
    const arg = op.invoke.value;
    const out = op.completion?.value;
    const text =
      arg === undefined && out === undefined
        ? ''
        : `${arg === undefined ? '' : compact(arg, 40)}${out !== undefined && compact(out, 40) !== compact(arg, 40) ? ` → ${compact(out, 40)}` : ''}`;
    bytes.push(text === '' ? 1 : values.id(text, MAX_VALUES));
  }
  for (const n of input.nemesis) end = Math.max(end, t(Number.isFinite(n.end) ? n.end : n.start));
  for (const l of input.leaders) end = Math.max(end, t(l.end));
  const faults: WholeRunFault[] = input.nemesis.map((n) => {
    const colour = input.colours.get(n.kind);
    return {
      kind: n.kind,
      label: n.label,
      start: t(n.start),
      end: n.interval ? (Number.isFinite(n.end) ? t(n.end) : -1) : t(n.start),
      interval: n.interval,
      heal: n.kind === input.healKind,
      detail: n.value === undefined ? '' : compact(n.value, 300),
      ...(colour !== undefined ? { colour } : {}),
    };
  });
  const anomalies = input.anomalies.map((a) => {
    const stuck = a.stuck.flatMap((i) => {
      const k = position.get(i);
      return k === undefined ? [] : [k];
    });
    const calls = a.stuck.map((i) => ops[i]!.call);
    const rets = a.stuck.map((i) => {
      const op = ops[i]!;
      return Number.isFinite(op.return) ? op.return : op.call;
    });
    const from = Math.min(...calls, ...(a.window ? [a.window[0]] : []));
    const to = Math.max(...rets, ...(a.window ? [a.window[1]] : []));
    return {
      key: a.key,
      stuck,
      from: Number.isFinite(from) ? t(from) : 0,
      to: Number.isFinite(to) ? t(to) : end,
    };
  });
  return {
    unit: unit === 'ns' ? 'us' : 'order',
    total: ops.length,
    n: chosen.length,
    end: Math.max(end, 1),
    procs: procs.list,
    rowProcs,
    fs: fs.list,
    keys: keys.list,
    values: values.list,
    faults,
    leaders: input.leaders.map((l) => ({ node: l.node, start: t(l.start), end: t(l.end) })),
    anomalies,
    data: gzipSync(bytes.bytes(), { level: 9 }).toString('base64'),
  };
}

/** JSON for inside a `<script type="application/json">`: no `<` can close the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
