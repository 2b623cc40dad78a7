import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
// The checker's modules one by one rather than its index, which loads every checker.
import { isHistoryError } from '../../checker/history/errors.js';
import type { HistoryEvent } from '../../checker/history/event.js';
import { loadHistory } from '../../checker/history/load.js';
import { splitHistory } from '../../checker/history/pair.js';
import { checkLinearizability } from '../../checker/linearizability.js';
import { linearizabilityResults } from '../../checker/linearizability-results.js';
import { getHistoryModel } from '../../checker/models/registry.js';
import type { LinearizabilityResults, Results } from '../../checker/results-schema.js';
import { UsageError } from '../exit-codes.js';
import type { HistoryFormat } from './options.js';

export const TIMELINE_FILE = 'timeline.html';

/** One history to check, with everything decided: where it is, how, and where results go. */
export interface CheckTarget {
  /** The argument as the user typed it (a file or a results folder). */
  arg: string;
  history: string;
  format: HistoryFormat;
  model: string;
  /** Present when an initial value was given (`null` is a value). */
  initial?: { value: unknown };
  partition: boolean;
  decideAll: boolean;
  timeoutMs?: number;
  /** Where results.json and timeline.html go; none: nothing is written. */
  outDir?: string;
  /**
   * Whether the evidence of illegal partitions is shown or written (default true); `--json`
   * with no `--out` prints verdicts only, so its search is spared.
   */
  evidence?: boolean;
}

export interface TargetOutcome {
  results: Results;
  linearizability: LinearizabilityResults;
  /** Files written. */
  written: string[];
}

/** The history as results.json names it: relative to the results folder when inside it. */
function historyName(t: CheckTarget): string {
  if (t.outDir === undefined) return t.history;
  const rel = relative(t.outDir, t.history);
  return rel.startsWith('..') || isAbsolute(rel) ? t.history : rel;
}

/** Imported histories often carry no clock: their times only order events. */
function timeUnitOf(events: readonly HistoryEvent[]): 'ns' | 'order' {
  return events.every((e) => e.time === e.index) ? 'order' : 'ns';
}

async function load(t: CheckTarget) {
  try {
    return await loadHistory(t.history, t.format);
  } catch (e) {
    if (isHistoryError(e)) throw new UsageError(e.message);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${t.history}: no such file`);
    if (code === 'EISDIR') throw new UsageError(`${t.history}: is a folder, not a history file`);
    if (code === 'EACCES') throw new UsageError(`${t.history}: permission denied`);
    throw e;
  }
}

/** Loads, checks and (with an output folder) writes results.json and timeline.html. */
export async function checkTarget(t: CheckTarget): Promise<TargetOutcome> {
  try {
    // Fails early, before reading the file, on a model that can't take the initial value given.
    getHistoryModel(t.model, t.initial ? { initial: t.initial.value } : {});
  } catch (e) {
    throw new UsageError(`${t.arg}: ${(e as Error).message}`);
  }
  const { events, format, warnings } = await load(t);
  const { ops } = splitHistory(events);
  // Evidence is what a user needs to see first: collected whenever it is shown or written.
  const verbose = t.evidence !== false || t.outDir !== undefined;
  const outcome = await checkLinearizability(ops, {
    model: t.model,
    ...(t.initial ? { initial: t.initial.value } : {}),
    ...(t.timeoutMs !== undefined ? { timeoutMs: t.timeoutMs } : {}),
    verbose,
    decideAll: t.decideAll,
    partition: t.partition,
  }).catch((e: unknown) => {
    // An op the model cannot interpret (wrong f, a value of the wrong shape) is bad input.
    if (e instanceof Error && e.name === 'ModelMismatchError') {
      throw new UsageError(`${t.history}: ${e.message}`);
    }
    throw e;
  });
  const results = linearizabilityResults({
    history: historyName(t),
    format,
    warnings: warnings.map((w) => (typeof w === 'string' ? w : w.message)),
    ops,
    outcome,
    ...(t.initial ? { initial: t.initial.value } : {}),
    partitioned: t.partition,
    decideAll: t.decideAll,
    ...(t.timeoutMs !== undefined ? { timeoutMs: t.timeoutMs } : {}),
  });
  const written: string[] = [];
  if (t.outDir !== undefined) {
    await mkdir(t.outDir, { recursive: true });
    // Loaded only to write: results.json is validated with zod, which a check need not load.
    const { writeResults } = await import('../../checker/results.js');
    written.push(await writeResults(t.outDir, results));
    const { renderTimeline } = await import('../../checker/timeline/index.js');
    const html = renderTimeline({
      title: t.arg,
      ops,
      result: outcome,
      events,
      timeUnit: timeUnitOf(events),
    });
    const file = join(t.outDir, TIMELINE_FILE);
    await writeFile(file, html);
    written.push(file);
  }
  return { results, linearizability: results.checkers.linearizability!, written };
}
