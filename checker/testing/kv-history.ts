/**
 * A simulated linearizable key-value store (read/write/cas per key) driven by concurrent
 * clients, recording a history of client operations: each operation takes effect at a random
 * instant inside its interval, so the history is linearizable by construction. A fraction of
 * operations end `info` (then they took effect or not, at random, and the process is retired
 * for a fresh one, as in Jepsen); cas operations whose expected value did not match end `fail`.
 */
import type { ClientOp } from '../history/client-op.js';
import type { HistoryEvent } from '../history/event.js';

export interface KvHistoryOptions {
  ops: number;
  keys: number;
  clients: number;
  /** Fraction of operations that end info. */
  infoRate: number;
  seed?: number;
}

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateKvHistory(options: KvHistoryOptions): ClientOp[] {
  const random = prng(options.seed ?? 1);
  const int = (n: number): number => Math.floor(random() * n);
  const store = new Map<string, number | null>();
  const out: ClientOp[] = [];
  let index = 0;
  let nextProcess = options.clients;
  // Each client's operation in flight: [effect time, return time].
  interface Flight {
    op: ClientOp;
    effect: number;
    applied: boolean;
    info: boolean;
    result: unknown;
    ok: boolean;
  }
  const flights: Flight[] = [];
  const processes = Array.from({ length: options.clients }, (_, i) => i);
  let now = 0;
  const start = (slot: number): void => {
    const key = `k${int(options.keys)}`;
    const r = random();
    const f = r < 0.5 ? 'read' : r < 0.8 ? 'write' : 'cas';
    const value = f === 'read' ? null : f === 'write' ? int(5) : [int(5), int(5)];
    const call = now + 1 + int(3);
    const effect = call + int(40);
    const ret = effect + int(40);
    const invoke: HistoryEvent = {
      index: 0,
      time: call,
      process: processes[slot]!,
      type: 'invoke',
      f,
      key,
      value,
    };
    const op: ClientOp = {
      process: processes[slot]!,
      f,
      key,
      status: 'ok',
      invoke,
      call,
      return: ret,
    };
    flights[slot] = {
      op,
      effect,
      applied: false,
      info: random() < options.infoRate,
      result: null,
      ok: true,
    };
  };
  for (let c = 0; c < options.clients; c++) start(c);
  if (options.ops * 2 >= 2 ** 23) throw new Error('generateKvHistory: at most 4M operations');
  const events: { time: number; ev: HistoryEvent }[] = [];
  let started = options.clients;
  let active = options.clients;
  while (active > 0) {
    // The next thing to happen: an effect or a return.
    let best = -1;
    let bestTime = Number.POSITIVE_INFINITY;
    for (let c = 0; c < flights.length; c++) {
      const fl = flights[c];
      if (fl === undefined) continue;
      const t = fl.applied ? fl.op.return : fl.effect;
      if (t < bestTime) {
        bestTime = t;
        best = c;
      }
    }
    const fl = flights[best]!;
    now = bestTime;
    if (!fl.applied) {
      fl.applied = true;
      const key = fl.op.key as string;
      const cur = store.get(key) ?? null;
      // An info operation takes effect only half of the time.
      const takesEffect = !fl.info || random() < 0.5;
      if (fl.op.f === 'read') fl.result = cur;
      else if (fl.op.f === 'write') {
        if (takesEffect) store.set(key, fl.op.invoke.value as number);
        fl.result = fl.op.invoke.value;
      } else {
        const [from, to] = fl.op.invoke.value as [number, number];
        fl.ok = cur === from;
        if (fl.ok && takesEffect) store.set(key, to);
        fl.result = fl.op.invoke.value;
      }
      continue;
    }
    const op = fl.op;
    const type = fl.info ? 'info' : fl.ok ? 'ok' : 'fail';
    op.status = type;
    if (fl.info) op.return = Number.POSITIVE_INFINITY;
    op.completion = {
      index: 0,
      time: now,
      process: op.process,
      type,
      f: op.f,
      key: op.key!,
      value: fl.result,
    };
    events.push({ time: op.call, ev: op.invoke }, { time: now, ev: op.completion });
    out.push(op);
    if (fl.info) processes[best] = nextProcess++;
    if (started < options.ops) {
      started++;
      start(best);
    } else {
      delete flights[best];
      active--;
    }
  }
  // History indices in time order, invokes before completions at equal times. Times are
  // integers here, so one numeric sort of packed keys does it.
  const keys = new Float64Array(events.length);
  for (let i = 0; i < events.length; i++) {
    keys[i] = (events[i]!.time * 2 + (events[i]!.ev.type === 'invoke' ? 0 : 1)) * 2 ** 23 + i;
  }
  keys.sort();
  for (let k = 0; k < keys.length; k++) events[keys[k]! % 2 ** 23]!.ev.index = index++;
  const byCall = new Float64Array(out.length);
  for (let i = 0; i < out.length; i++) byCall[i] = out[i]!.call * 2 ** 23 + i;
  byCall.sort();
  const sorted = Array.from(byCall, (k) => out[k % 2 ** 23]!);
  return sorted;
}
