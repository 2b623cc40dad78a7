/**
 * A simulated transactional store that records Jepsen-style txn histories. Processes run txns
 * one after another; a seeded scheduler interleaves their steps (invoke, each micro-op,
 * complete). The isolation decides what reads see and what commits:
 *
 * - `serializable`: the whole txn runs atomically at its completion (strict serializable);
 * - `snapshot`: reads see the committed state as of the invocation plus the txn's own writes;
 *   a commit fails if another txn committed a write to one of its keys meanwhile;
 * - `no-first-committer-wins`: snapshot reads, and commits are not checked (lost updates);
 * - `read-committed`: each read sees the latest committed state plus the txn's own writes.
 *
 * The last two take a write lock on a key at its first write and hold it to the end (a txn
 * that finds the lock taken fails), so that what a txn reads of a key it wrote is a state the
 * key really passes through.
 *
 * Some txns fail before doing anything, some end info (their commit then happens or not).
 */

import type { HistoryEvent } from '../../history/event.js';
import { prng } from '../../history/generate.js';
import type { Workload } from '../types.js';

export type Isolation = 'serializable' | 'snapshot' | 'no-first-committer-wins' | 'read-committed';

export interface StoreSimOptions {
  workload: Workload;
  isolation: Isolation;
  seed: number;
  txns: number;
  processes?: number;
  keys?: number;
  /** Most micro-ops in a txn (at least 1). */
  maxOps?: number;
  readFraction?: number;
  /** Chance that a txn fails with no effect (the client gave up before sending it). */
  failRate?: number;
  infoRate?: number;
  /**
   * Move on to `keys` fresh keys every this many txns (as Jepsen's list-append retires keys),
   * so that lists stay short in long histories. Default: never (the same keys throughout).
   */
  rotateAfter?: number;
}

type Value = number[] | number | null;
type Micro = [string, number, Value];

interface Running {
  process: number;
  ops: Micro[];
  done: number;
  /** Committed state and commit counts per key when the txn began. */
  snapshot: Map<number, Value>;
  began: number;
  writes: Map<number, Value>;
  fate: 'ok' | 'fail' | 'info';
}

export function simulateStore(options: StoreSimOptions): HistoryEvent[] {
  const rand = prng(options.seed);
  const int = (n: number) => Math.floor(rand() * n);
  const processes = options.processes ?? 3;
  const keys = options.keys ?? 3;
  const maxOps = options.maxOps ?? 3;
  const readFraction = options.readFraction ?? 0.5;
  const failRate = options.failRate ?? 0.05;
  const infoRate = options.infoRate ?? 0.05;
  const append = options.workload === 'list-append';
  const rotateAfter = options.rotateAfter ?? Number.POSITIVE_INFINITY;
  // A serializable txn reads the committed state at its completion, in the same step as it
  // commits: no copy of the state is needed (a copy per txn is quadratic in long histories).
  const serializable = options.isolation === 'serializable';

  const committed = new Map<number, Value>();
  /** Commit counter when each key was last written. */
  const lastWrite = new Map<number, number>();
  let commits = 0;
  let nextValue = 1;
  const events: HistoryEvent[] = [];
  const emit = (process: number, type: HistoryEvent['type'], value: Micro[]) => {
    events.push({ index: events.length, time: events.length, process, type, f: 'txn', value });
  };

  const pids = Array.from({ length: processes }, (_, i) => i);
  let nextPid = processes;
  const running = new Map<number, Running>();
  let started = 0;

  const readOf = (r: Running, k: number): Value => {
    if (r.writes.has(k)) return r.writes.get(k)!;
    const base = options.isolation === 'read-committed' ? committed.get(k) : r.snapshot.get(k);
    return base ?? (append ? [] : null);
  };
  const locking =
    options.isolation === 'read-committed' || options.isolation === 'no-first-committer-wins';
  const locks = new Map<number, number>();
  const release = (r: Running) => {
    for (const [k, holder] of locks) if (holder === r.process) locks.delete(k);
  };
  const writeOf = (r: Running, k: number, v: number) => {
    let base = readOf(r, k);
    if (locking && !r.writes.has(k)) {
      const holder = locks.get(k);
      if (holder !== undefined && holder !== r.process) {
        r.fate = 'fail';
        return;
      }
      locks.set(k, r.process);
      base = committed.get(k) ?? (append ? [] : null);
    }
    if (append) r.writes.set(k, [...((base as number[] | null) ?? []), v]);
    else r.writes.set(k, v);
  };
  const commit = (r: Running): boolean => {
    if (options.isolation === 'snapshot') {
      for (const k of r.writes.keys()) if ((lastWrite.get(k) ?? 0) > r.began) return false;
    }
    commits += 1;
    for (const op of r.ops) {
      if (op[0] === 'r') continue;
      const k = op[1];
      const v = op[2] as number;
      if (append) committed.set(k, [...((committed.get(k) as number[] | undefined) ?? []), v]);
      else committed.set(k, v);
      lastWrite.set(k, commits);
    }
    return true;
  };

  while (started < options.txns || running.size > 0) {
    const slot = int(processes);
    const pid = pids[slot]!;
    const r = running.get(pid);
    if (r === undefined) {
      if (started >= options.txns) continue;
      started += 1;
      const n = 1 + int(maxOps);
      const ops: Micro[] = [];
      const firstKey = Math.floor((started - 1) / rotateAfter) * keys;
      for (let i = 0; i < n; i++) {
        const k = firstKey + int(keys);
        ops.push(
          rand() < readFraction ? ['r', k, null] : [append ? 'append' : 'w', k, nextValue++],
        );
      }
      const roll = rand();
      const fate = roll < failRate ? 'fail' : roll < failRate + infoRate ? 'info' : 'ok';
      running.set(pid, {
        process: pid,
        ops,
        done: 0,
        snapshot: serializable ? committed : new Map(committed),
        began: commits,
        writes: new Map(),
        fate,
      });
      emit(
        pid,
        'invoke',
        ops.map((o) => [...o] as Micro),
      );
      continue;
    }
    if (r.fate !== 'fail' && options.isolation !== 'serializable' && r.done < r.ops.length) {
      const op = r.ops[r.done]!;
      if (op[0] === 'r') op[2] = readOf(r, op[1]);
      else writeOf(r, op[1], op[2] as number);
      r.done += 1;
      continue;
    }
    running.delete(pid);
    release(r);
    if (r.fate === 'fail') {
      emit(pid, 'fail', r.ops);
      continue;
    }
    if (serializable) {
      r.snapshot = committed;
      for (const op of r.ops) {
        if (op[0] === 'r') op[2] = readOf(r, op[1]);
        else writeOf(r, op[1], op[2] as number);
      }
    }
    const happens = r.fate === 'ok' || rand() < 0.5;
    const committedOk = happens && commit(r);
    if (r.fate === 'info') {
      // Reads of an indeterminate txn are unknown.
      emit(
        pid,
        'info',
        r.ops.map((o) => (o[0] === 'r' ? ['r', o[1], null] : o)),
      );
      pids[slot] = nextPid++;
      continue;
    }
    emit(pid, committedOk ? 'ok' : 'fail', r.ops);
  }
  return events;
}
