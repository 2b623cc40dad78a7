/**
 * Seeded generation of well-formed register histories, for tests and benchmarks.
 *
 * Clients run read / write / cas operations on registers (one per key). Each operation takes
 * effect atomically at some moment between its invoke and its completion, so the history is
 * linearizable by construction, unless `corruptReads` makes some reads return a value never
 * written. `info` completions took effect or not, at random; the process id is then retired
 * and a fresh one takes its place. Operations still open at the end stay pending.
 */
import type { HistoryEvent, Key } from './event.js';

export interface GenerateOptions {
  seed: number;
  /** Number of operations invoked. */
  ops: number;
  /** Concurrent client processes (default 5). */
  clients?: number;
  /** Number of keys; 0 (default): one register and no `key` field. */
  keys?: number;
  /** Distinct values written (default 5). */
  values?: number;
  /** Share of completions that are `info` (default 0.05). */
  infoRate?: number;
  /** Share of reads answered with a value never written (default 0). */
  corruptReads?: number;
  /** Emit a nemesis event every this many events (default: none). */
  nemesisEvery?: number;
  /** Time between consecutive events, ns (default 1000). */
  step?: number;
}

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface InFlight {
  f: 'read' | 'write' | 'cas';
  key: Key | undefined;
  arg: unknown;
  applied: boolean;
  /** What the completion reports, once applied. */
  type: 'ok' | 'fail';
  result: unknown;
}

export function generateHistory(options: GenerateOptions): HistoryEvent[] {
  const rand = prng(options.seed);
  const clients = options.clients ?? 5;
  const keys = options.keys ?? 0;
  const values = options.values ?? 5;
  const infoRate = options.infoRate ?? 0.05;
  const corrupt = options.corruptReads ?? 0;
  const step = options.step ?? 1000;
  const int = (n: number) => Math.floor(rand() * n);

  const registers = new Map<Key | undefined, number | null>();
  const slots: { process: number; op: InFlight | undefined }[] = [];
  for (let i = 0; i < clients; i++) slots.push({ process: i, op: undefined });
  let nextProcess = clients;
  let invoked = 0;
  const events: HistoryEvent[] = [];
  const emit = (e: Omit<HistoryEvent, 'index' | 'time'>) => {
    const index = events.length;
    events.push({ index, time: (index + 1) * step, ...e } as HistoryEvent);
  };
  const keyed = (key: Key | undefined) => (key === undefined ? {} : { key });

  while (invoked < options.ops || slots.some((s) => s.op !== undefined)) {
    if (
      options.nemesisEvery !== undefined &&
      events.length % options.nemesisEvery === options.nemesisEvery - 1
    ) {
      emit({
        process: 'nemesis',
        type: 'info',
        f: rand() < 0.5 ? 'start-partition' : 'stop-partition',
        value: null,
      });
      continue;
    }
    const slot = slots[int(clients)]!;
    const op = slot.op;
    if (op === undefined) {
      if (invoked >= options.ops) continue;
      invoked += 1;
      const key = keys > 0 ? `k${int(keys)}` : undefined;
      const r = rand();
      const f = r < 0.4 ? 'read' : r < 0.7 ? 'write' : 'cas';
      const arg = f === 'read' ? null : f === 'write' ? int(values) : [int(values), int(values)];
      slot.op = { f, key, arg, applied: false, type: 'ok', result: arg };
      emit({ process: slot.process, type: 'invoke', f, ...keyed(key), value: arg });
    } else if (!op.applied && rand() < 0.6) {
      const current = registers.get(op.key) ?? null;
      op.applied = true;
      if (op.f === 'read') {
        op.result = rand() < corrupt ? values + 1 + int(values) : current;
      } else if (op.f === 'write') {
        registers.set(op.key, op.arg as number);
      } else {
        const [from, to] = op.arg as [number, number];
        if (current === from) registers.set(op.key, to);
        else op.type = 'fail';
      }
    } else if (rand() < infoRate) {
      // Indeterminate: it took effect or not (not yet applied: it never will be).
      emit({ process: slot.process, type: 'info', f: op.f, ...keyed(op.key), value: op.arg });
      slot.op = undefined;
      slot.process = nextProcess++;
    } else if (op.applied) {
      emit({ process: slot.process, type: op.type, f: op.f, ...keyed(op.key), value: op.result });
      slot.op = undefined;
    } else if (invoked >= options.ops && rand() < 0.05) {
      // Leave it pending: the run ended with the operation open.
      slot.op = undefined;
      slot.process = nextProcess++;
    }
  }
  return events;
}
