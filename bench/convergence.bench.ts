/**
 * The convergence and set-full checkers on 1M final-read elements (target: under 2 s each).
 *
 * - set, one key: 200k acknowledged adds, then 5 replicas reading all 200k elements.
 * - set, 1000 keys: 200 adds per key, 5 client reads per key during the run, 5 replicas.
 * - kv (lww), 200k keys × 5 replicas = 1M key states, one acknowledged write per key, one key
 *   in 1000 lost (to exercise the loss path).
 *
 * The histories are built in memory beforehand (pairing included: the checkers take paired
 * ops); only the checker calls are timed, each on a fresh copy of the ops array (the checkers
 * share parsed final reads per ops array). Shared 2-core machine: numbers are noisy.
 */
import { checkConvergence } from '../checker/convergence.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { pairOperations } from '../checker/history/pair.js';
import { checkSetFull } from '../checker/set-full.js';

export const name = 'convergence and set-full checkers';

const TARGET_MS = 2000;
const MS = 1e6;
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

class Events {
  readonly list: HistoryEvent[] = [];
  push(e: Omit<HistoryEvent, 'index'>): void {
    this.list.push({ ...e, index: this.list.length } as HistoryEvent);
  }
}

/** Adds (or writes) one after another on 10 processes, 1 ms each. */
function writes(ev: Events, f: string, items: Array<{ key: string; value: unknown }>): number {
  let t = 0;
  for (let i = 0; i < items.length; i++) {
    const { key, value } = items[i]!;
    const process = i % 10;
    ev.push({ time: t * MS, process, type: 'invoke', f, key, value });
    ev.push({ time: (t + 0.5) * MS, process, type: 'ok', f, key, value });
    if (process === 9) t++;
  }
  return t + 1;
}

function replicaRound(
  ev: Events,
  at: number,
  keys: (node: string) => Record<string, unknown>,
): void {
  ev.push({ time: at * MS, process: 'nemesis', type: 'info', f: 'heal-all-stop' });
  NODES.forEach((node, i) => {
    ev.push({
      time: (at + 10) * MS,
      process: 1000 + i,
      type: 'invoke',
      f: 'replica-read',
      value: { node, round: 0 },
    });
  });
  NODES.forEach((node, i) => {
    ev.push({
      time: (at + 20) * MS,
      process: 1000 + i,
      type: 'ok',
      f: 'replica-read',
      node,
      value: { node, round: 0, keys: keys(node) },
    });
  });
}

export function setOneKey(): HistoryEvent[] {
  const ev = new Events();
  const n = 200_000;
  const t = writes(
    ev,
    'add',
    Array.from({ length: n }, (_, i) => ({ key: 's', value: i })),
  );
  const elements = Array.from({ length: n }, (_, i) => i);
  replicaRound(ev, t + 100, () => ({ s: { elements } }));
  return ev.list;
}

export function setManyKeys(): HistoryEvent[] {
  const ev = new Events();
  const keys = 1000;
  const per = 200;
  const items = [];
  for (let e = 0; e < per; e++)
    for (let k = 0; k < keys; k++) items.push({ key: `s${k}`, value: k * per + e });
  let t = writes(ev, 'add', items);
  // 5 reads per key, each seeing a growing prefix of the key's elements.
  for (let r = 1; r <= 5; r++) {
    for (let k = 0; k < keys; k++) {
      const seen = Array.from({ length: (per * r) / 5 - 3 }, (_, e) => k * per + e);
      ev.push({ time: t * MS, process: 2000 + k, type: 'invoke', f: 'read', key: `s${k}` });
      ev.push({
        time: (t + 0.5) * MS,
        process: 2000 + k,
        type: 'ok',
        f: 'read',
        key: `s${k}`,
        value: seen,
      });
    }
    t++;
  }
  const state: Record<string, unknown> = {};
  for (let k = 0; k < keys; k++) {
    state[`s${k}`] = { elements: Array.from({ length: per }, (_, e) => k * per + e) };
  }
  replicaRound(ev, t + 100, () => state);
  return ev.list;
}

export function kvLww(): HistoryEvent[] {
  const ev = new Events();
  const keys = 200_000;
  const t = writes(
    ev,
    'write',
    Array.from({ length: keys }, (_, k) => ({ key: `k${k}`, value: k })),
  );
  const state: Record<string, unknown> = {};
  for (let k = 0; k < keys; k++) {
    state[`k${k}`] = k % 1000 === 7 ? { values: [] } : { values: [k], ts: [1_700_000_000_000 + k] };
  }
  replicaRound(ev, t + 100, () => state);
  return ev.list;
}

function measure(label: string, elements: number, run: () => { valid: unknown }): void {
  run(); // warm-up (JIT)
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const result = run();
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  process.stdout.write(
    `${label.padEnd(46)} ${elements.toLocaleString('en-US')} final elements  ` +
      `${ms.toFixed(0).padStart(5)} ms (cpu ${cpuMs.toFixed(0)} ms)  ${(ms / TARGET_MS).toFixed(2)}× target  ` +
      `valid=${String(result.valid)}  heap Δ ${heapMb.toFixed(0)} MiB\n`,
  );
}

export async function run(): Promise<void> {
  process.stdout.write(
    `target < ${TARGET_MS} ms per check; shared 2-core machine, numbers are noisy\n`,
  );
  const one = setOneKey();
  const oneOps = pairOperations(one);
  measure('set-full, 1 key × 200k, 5 replicas', 1_000_000, () =>
    checkSetFull({ events: one, ops: [...oneOps] }),
  );
  measure('convergence (set), 1 key × 200k, 5 replicas', 1_000_000, () =>
    checkConvergence({ events: one, ops: [...oneOps] }, { type: 'set' }),
  );
  const many = setManyKeys();
  const manyOps = pairOperations(many);
  measure('set-full, 1000 keys × 200 (+5 reads/key)', 1_000_000, () =>
    checkSetFull({ events: many, ops: [...manyOps] }),
  );
  measure('convergence (set), 1000 keys × 200', 1_000_000, () =>
    checkConvergence({ events: many, ops: [...manyOps] }, { type: 'set' }),
  );
  const kv = kvLww();
  const kvOps = pairOperations(kv);
  measure('convergence (lww), 200k keys × 5 replicas', 1_000_000, () =>
    checkConvergence({ events: kv, ops: [...kvOps] }, { type: 'lww' }),
  );
}
