/**
 * From history events to transactions: each `:f :txn` completion paired with its invocation.
 * A history without any invocation (a database's own log, a hand-written example) is taken as
 * completions alone: every completion is a transaction, and nothing is known of real time.
 */
import { z } from 'zod';
import {
  HistoryError,
  type HistoryEvent,
  isClientEvent,
  type ProcessId,
} from '../history/index.js';
import { looksLikeTxn, parseMicroOp, rawTxnSchema } from './micro-ops.js';
import type { MicroOp, Txn, TxnStatus, Workload } from './types.js';

export interface TxnHistory {
  txns: Txn[];
  /** False for completion-only histories: no realtime order can be inferred. */
  hasInvocations: boolean;
  /** Micro-op functions the workload does not know (the history is then unknown). */
  unexpected: string[];
  /** Client ops whose f is not txn, skipped. */
  skipped: number;
}

export interface TxnSource {
  file?: string;
  /** `lines[i]`: the source line of `events[i]`, for errors. */
  lines?: readonly number[];
}

function where(file: string, line: number | undefined, index: number) {
  return { file, ...(line !== undefined ? { line } : {}), field: `value (event ${index})` };
}

function microOps(
  value: unknown,
  workload: Workload,
  unexpected: Set<string>,
  at: ReturnType<typeof where>,
): MicroOp[] {
  const raw = looksLikeTxn(value)
    ? ({ success: true, data: value } as const)
    : rawTxnSchema.safeParse(value);
  if (!raw.success) {
    throw new HistoryError(
      at,
      `expected a transaction, a list of micro-ops such as ["append", "x", 1] or ["r", "x", null]: ${z.prettifyError(raw.error).replaceAll('\n', ' ')}`,
    );
  }
  const ops: MicroOp[] = [];
  for (const m of raw.data) {
    let parsed: ReturnType<typeof parseMicroOp>;
    try {
      parsed = parseMicroOp(m, workload);
    } catch (e) {
      const detail = e instanceof z.ZodError ? z.prettifyError(e).replaceAll('\n', ' ') : String(e);
      throw new HistoryError(
        at,
        `micro-op ${JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}: ${detail}`,
      );
    }
    if (typeof parsed === 'string') unexpected.add(parsed);
    else ops.push(parsed);
  }
  return ops;
}

interface Open {
  event: HistoryEvent;
  line: number | undefined;
  slot: number;
}

/**
 * Builds the transactions of a history one event at a time (a large history need not be held
 * whole). The first client event decides: an invocation, and every completion must pair with
 * one; a completion, and the history is of completions alone.
 */
export class TxnBuilder {
  private mode: 'undecided' | 'paired' | 'completions' = 'undecided';
  private readonly unexpected = new Set<string>();
  // Slots in invocation order; a slot stays empty for an op that is not a txn.
  private readonly slots: (Txn | undefined)[] = [];
  private readonly open = new Map<ProcessId, Open>();
  private skipped = 0;

  constructor(
    private readonly workload: Workload,
    private readonly file = '<history>',
  ) {}

  /** Whether the history has invocations (undefined until its first client event). */
  get paired(): boolean | undefined {
    return this.mode === 'undecided' ? undefined : this.mode === 'paired';
  }

  private make(status: TxnStatus, value: unknown, at: HistoryEvent, line: number | undefined) {
    if (at.f !== 'txn') {
      this.skipped += 1;
      return undefined;
    }
    const ops = microOps(value, this.workload, this.unexpected, where(this.file, line, at.index));
    const txn: Txn = { id: -1, process: at.process, status, ops };
    return txn;
  }

  add(e: HistoryEvent, line?: number): void {
    if (!isClientEvent(e)) return;
    if (this.mode === 'undecided') this.mode = e.type === 'invoke' ? 'paired' : 'completions';
    if (this.mode === 'completions') {
      if (e.type === 'invoke') {
        throw new HistoryError(
          where(this.file, line, e.index),
          'an invocation in a history that began with completions alone (a history either has invocations for every completion or none at all)',
        );
      }
      const txn = this.make(e.type, e.value, e, line);
      if (txn !== undefined) {
        txn.completeIndex = e.index;
        this.slots.push(txn);
      }
      return;
    }
    if (e.type === 'invoke') {
      if (this.open.has(e.process)) {
        throw new HistoryError(
          where(this.file, line, e.index),
          `process ${String(e.process)} invokes while its previous operation is still open`,
        );
      }
      // The txn is made at its completion, when its value is known, in its invocation's slot.
      this.open.set(e.process, { event: e, line, slot: this.slots.length });
      this.slots.push(undefined);
      return;
    }
    const o = this.open.get(e.process);
    if (o === undefined) {
      throw new HistoryError(
        where(this.file, line, e.index),
        `${e.type} completion by process ${String(e.process)} without an invocation (a history either has invocations for every completion or none at all)`,
      );
    }
    this.open.delete(e.process);
    const value = e.type === 'ok' ? e.value : (e.value ?? o.event.value);
    const txn = this.make(e.type, value, e, line);
    if (txn !== undefined) {
      txn.invokeIndex = o.event.index;
      txn.completeIndex = e.index;
    }
    this.slots[o.slot] = txn;
  }

  finish(): TxnHistory {
    // Still open at the end: indeterminate, as info.
    for (const o of this.open.values()) {
      const txn = this.make('info', o.event.value, o.event, o.line);
      if (txn !== undefined) txn.invokeIndex = o.event.index;
      this.slots[o.slot] = txn;
    }
    this.open.clear();
    const txns = this.slots.filter((t): t is Txn => t !== undefined);
    txns.forEach((t, i) => {
      t.id = i;
    });
    return {
      txns,
      hasInvocations: this.mode === 'paired',
      unexpected: [...this.unexpected].sort(),
      skipped: this.skipped,
    };
  }
}

/** Pairs and reads the `txn` operations of a history, in invocation (or completion) order. */
export function txnsOf(
  events: readonly HistoryEvent[],
  workload: Workload,
  source: TxnSource = {},
): TxnHistory {
  const builder = new TxnBuilder(workload, source.file);
  for (let i = 0; i < events.length; i++) builder.add(events[i]!, source.lines?.[i]);
  return builder.finish();
}
