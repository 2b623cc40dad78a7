/**
 * Reading a txn history from a file, through checker/history's readers: faultline JSONL and
 * Jepsen EDN (vector, one map per line) or log lines. Unlike `loadHistory`, a history of
 * completions alone is accepted; one with invocations is checked for well-formedness first.
 */
import { readFile } from 'node:fs/promises';
import {
  checkWellFormed,
  detectFormat,
  HistoryError,
  type HistoryFormat,
  type HistoryFormatOption,
  type HistoryWarning,
  historyFormatOptionSchema,
  isClientEvent,
  parseEdnHistory,
  parseEdnLinesHistory,
  parseJepsenLogHistory,
  readJsonlBatches,
  WellFormedChecker,
} from '../history/index.js';
import { TxnBuilder, type TxnHistory, txnsOf } from './txns.js';
import type { Workload } from './types.js';

export interface LoadedTxnHistory extends TxnHistory {
  /** Events read (all of them, nemesis included). */
  events: number;
  warnings: HistoryWarning[];
}

/**
 * JSONL, streamed: each event goes to the well-formedness checker (unless the history turns
 * out to be completions alone) and to the txn builder, and is not kept.
 */
async function readJsonl(file: string, workload: Workload): Promise<LoadedTxnHistory> {
  const warnings: HistoryWarning[] = [];
  const builder = new TxnBuilder(workload, file);
  let wellFormed: WellFormedChecker | undefined = new WellFormedChecker({
    file,
    retiredProcesses: 'warn',
  });
  let count = 0;
  for await (const batch of readJsonlBatches(file, { onWarning: (w) => warnings.push(w) })) {
    for (let i = 0; i < batch.events.length; i++) {
      const event = batch.events[i]!;
      const line = batch.lines[i];
      // A first client event that is a completion: completions alone, which pair with nothing.
      if (builder.paired === undefined && isClientEvent(event) && event.type !== 'invoke') {
        wellFormed = undefined;
      }
      wellFormed?.add(event, line);
      builder.add(event, line);
    }
    count += batch.events.length;
  }
  if (wellFormed !== undefined) warnings.push(...wellFormed.finish());
  return { ...builder.finish(), events: count, warnings };
}

/** The Jepsen formats: read whole by checker/history's importers. */
async function readImported(
  file: string,
  format: Exclude<HistoryFormat, 'jsonl'>,
  workload: Workload,
): Promise<LoadedTxnHistory> {
  const raw = await readFile(file, 'utf8');
  const text = raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
  const parse =
    format === 'edn'
      ? parseEdnHistory
      : format === 'edn-lines'
        ? parseEdnLinesHistory
        : parseJepsenLogHistory;
  const { events, lines, warnings } = parse(text, file);
  const all = [...warnings];
  if (events.some((e) => e.type === 'invoke' && isClientEvent(e))) {
    all.push(...checkWellFormed(events, { file, lines, retiredProcesses: 'warn' }));
  }
  return { ...txnsOf(events, workload, { file, lines }), events: events.length, warnings: all };
}

export async function loadTxnHistory(
  file: string,
  workload: Workload,
  format: HistoryFormatOption = 'auto',
): Promise<LoadedTxnHistory> {
  const asked = historyFormatOptionSchema.safeParse(format);
  if (!asked.success) {
    throw new HistoryError({ file }, `unknown history format ${JSON.stringify(format)}`);
  }
  try {
    const chosen = asked.data === 'auto' ? await detectFormat(file) : asked.data;
    return chosen === 'jsonl'
      ? await readJsonl(file, workload)
      : await readImported(file, chosen, workload);
  } catch (e) {
    if (e instanceof HistoryError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw e;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code;
    throw new HistoryError({ file }, `cannot read the history: ${why}`);
  }
}
