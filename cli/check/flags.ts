/**
 * The flags of `faultline check` read without zod, for the common case: ./options.ts's schema is
 * the contract, and a flag this reading does not accept outright goes to it (loaded then), which
 * also words the error. A property test (options.test.ts) holds the two together. Loading zod is
 * a good part of the start-up of a check of one small history.
 */
import { parseJson } from '../../checker/history/json.js';

export const HISTORY_FORMATS = ['auto', 'jsonl', 'edn', 'jepsen-log', 'edn-lines'] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];

/** The flags of `faultline check`, parsed (as ./options.ts's schema gives them). */
export interface CheckFlags {
  model?: string | undefined;
  format: HistoryFormat;
  initial?: unknown;
  timeout?: number | undefined;
  out?: string | undefined;
  json: boolean;
  perPartition: boolean;
  partition: boolean;
}

const SECONDS = /^\s*\d+(\.\d+)?\s*$/;

const flag = (v: unknown, absent: boolean): boolean | undefined =>
  v === undefined ? absent : typeof v === 'boolean' ? v : undefined;

/** The flags, when every one is plainly valid; undefined for the schema to decide and word. */
export function quickCheckFlags(
  raw: Record<string, unknown>,
  models: readonly string[],
): CheckFlags | undefined {
  const { model, format, initial, timeout, out } = raw;
  if (model !== undefined && !(typeof model === 'string' && models.includes(model))) return;
  if (!(HISTORY_FORMATS as readonly unknown[]).includes(format)) return;
  const json = flag(raw.json, false);
  const perPartition = flag(raw.perPartition, false);
  const partition = flag(raw.partition, true);
  if (json === undefined || perPartition === undefined || partition === undefined) return;
  if (out !== undefined && !(typeof out === 'string' && out.length > 0)) return;
  const flags: CheckFlags = { format: format as HistoryFormat, json, perPartition, partition };
  if (model !== undefined) flags.model = model;
  if (initial !== undefined) {
    if (typeof initial !== 'string') return;
    try {
      flags.initial = parseJson(initial);
    } catch {
      return;
    }
  }
  if (timeout !== undefined) {
    if (typeof timeout !== 'string' || !SECONDS.test(timeout)) return;
    const seconds = Number(timeout);
    if (!(seconds > 0 && Number.isFinite(seconds))) return;
    flags.timeout = seconds;
  }
  if (out !== undefined) flags.out = out;
  return flags;
}
