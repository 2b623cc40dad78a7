/**
 * Hand-building histories for the convergence, set-full and counter checkers' tests: ops with
 * explicit invoke/completion times (ms), nemesis events and replica-read rounds, sorted into a
 * well-formed history and paired.
 */
import type { ClientOp, ClientOpStatus } from '../history/client-op.js';
import type { HistoryEvent, ProcessId } from '../history/event.js';
import { pairOperations } from '../history/pair.js';

export interface OpSpec {
  process: ProcessId;
  f: string;
  key?: string;
  value?: unknown;
  /** Invoke time, ms. */
  at: number;
  /** Completion time, ms (ignored for pending). */
  end?: number;
  status?: ClientOpStatus;
  /** The completion's value (a read's result); defaults to the invoke's value. */
  result?: unknown;
  /** Extra completion fields (node, ts, ...). */
  extra?: Record<string, unknown>;
}

const MS = 1e6;

/** An event before it gets its index. */
type RawEvent = Omit<HistoryEvent, 'index' | 'time'> & { time: number };

export class HistoryBuilder {
  private readonly raw: RawEvent[] = [];
  private replicaProcess = 1000;

  op(spec: OpSpec): this {
    const status = spec.status ?? 'ok';
    const invoke: RawEvent = {
      time: spec.at * MS,
      process: spec.process,
      type: 'invoke',
      f: spec.f,
    };
    if (spec.key !== undefined) invoke.key = spec.key;
    if (spec.value !== undefined) invoke.value = spec.value;
    this.raw.push(invoke);
    if (status === 'pending') return this;
    const done: RawEvent = {
      time: (spec.end ?? spec.at + 1) * MS,
      process: spec.process,
      type: status,
      f: spec.f,
      ...(spec.extra ?? {}),
    };
    if (spec.key !== undefined) done.key = spec.key;
    const value = spec.result !== undefined ? spec.result : spec.value;
    if (value !== undefined) done.value = value;
    this.raw.push(done);
    return this;
  }

  nemesis(f: string, at: number): this {
    this.raw.push({ time: at * MS, process: 'nemesis', type: 'info', f });
    return this;
  }

  /** One round of replica reads: every node read at [at, end]; `null` states = a failed read. */
  round(
    round: number,
    at: number,
    end: number,
    byNode: Record<string, Record<string, unknown> | null>,
  ): this {
    for (const [node, keys] of Object.entries(byNode)) {
      const process = this.replicaProcess++;
      this.op({
        process,
        f: 'replica-read',
        value: { node, round },
        at,
        end,
        status: keys === null ? 'info' : 'ok',
        ...(keys === null ? {} : { result: { node, round, keys }, extra: { node } }),
      });
    }
    return this;
  }

  build(): { events: HistoryEvent[]; ops: ClientOp[] } {
    const sorted = this.raw
      .map((e, i) => ({ e, i }))
      .sort((a, b) => a.e.time - b.e.time || a.i - b.i);
    const events = sorted.map(({ e }, index) => ({ ...e, index }) as HistoryEvent);
    return { events, ops: pairOperations(events) };
  }
}
