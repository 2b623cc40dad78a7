import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FILES } from '../results-folder.js';
import { safeName } from './runs.js';

/**
 * Node logs lined up with the history: a line's wall-clock time (a timestamp near its start, see
 * stampOf; a line without one takes the time of the line before) minus the run's start (test.json's
 * startedAt, which is where the history's clock starts) gives seconds on the timeline's axis.
 */

/** ISO 8601 and its log-library variants: a space for the T, a comma before the fraction. */
const ISO = /(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?/;
/** Redis: `06 Dec 2026 16:27:54.123` (the server's local time; UTC in our images). */
const DMY =
  /\b(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?/;
const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';
/** Largest log read whole (bytes); past it, its last part. */
const MAX_BYTES = 32 * 1024 * 1024;

export interface LogLine {
  /** Seconds since the run started (null: before any timestamp). */
  t: number | null;
  text: string;
}

export interface NodeLog {
  node: string;
  file: string;
  lines: LogLine[];
  /** Lines that matched, before the limit cut them. */
  matched: number;
}

export interface LogQuery {
  /** Seconds since the run started; with `windowS`, lines within that far of it. */
  at?: number;
  windowS?: number;
  /** Case-insensitive text the line must contain. */
  q?: string;
  /** Most lines per file. */
  limit?: number;
}

/**
 * The wall-clock time (ms since the epoch) a log line starts with, if it has one near its start.
 * A time without a zone is taken as UTC, as the backends run nodes with TZ unset.
 */
export function stampOf(line: string): number | undefined {
  const head = line.slice(0, 120);
  const iso = ISO.exec(head);
  if (iso !== null) {
    const [, date, time, frac, zone] = iso;
    const ms = (frac ?? '').padEnd(3, '0').slice(0, 3);
    const t = Date.parse(`${date}T${time}.${ms}${zone ?? 'Z'}`);
    return Number.isNaN(t) ? undefined : t;
  }
  const dmy = DMY.exec(head);
  if (dmy !== null) {
    const [, day, mon, year, time, frac] = dmy;
    const month = String(MONTHS.indexOf(mon!) / 3 + 1).padStart(2, '0');
    const ms = (frac ?? '').padEnd(3, '0').slice(0, 3);
    const t = Date.parse(`${year}-${month}-${day!.padStart(2, '0')}T${time}.${ms}Z`);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function readTail(file: string): string {
  const size = statSync(file).size;
  const text = readFileSync(file);
  return (size > MAX_BYTES ? text.subarray(size - MAX_BYTES) : text).toString('utf8');
}

/** The log files of a run: `nodes/<node>/<file>.log`. */
export function logFiles(dir: string): { node: string; file: string }[] {
  const out: { node: string; file: string }[] = [];
  const nodes = join(dir, FILES.nodes);
  let names: string[];
  try {
    names = readdirSync(nodes).filter(safeName).sort();
  } catch {
    return out;
  }
  for (const node of names) {
    try {
      for (const f of readdirSync(join(nodes, node)).filter(safeName).sort()) {
        if (statSync(join(nodes, node, f)).isFile()) out.push({ node, file: f });
      }
    } catch {
      // not a folder
    }
  }
  return out;
}

/** Each node's log lines around a moment and/or matching a text. */
export function queryLogs(dir: string, startedAtMs: number, query: LogQuery): NodeLog[] {
  const limit = query.limit ?? 200;
  const needle = query.q?.toLowerCase();
  const windowS = query.windowS ?? 2;
  return logFiles(dir).map(({ node, file }) => {
    const lines: LogLine[] = [];
    let matched = 0;
    let last: number | null = null;
    let text: string;
    try {
      text = readTail(join(dir, FILES.nodes, node, file));
    } catch {
      text = '';
    }
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      const ms = stampOf(raw);
      if (ms !== undefined) last = (ms - startedAtMs) / 1000;
      if (query.at !== undefined && (last === null || Math.abs(last - query.at) > windowS))
        continue;
      if (needle !== undefined && needle !== '' && !raw.toLowerCase().includes(needle)) continue;
      matched++;
      if (lines.length < limit) lines.push({ t: last, text: raw.slice(0, 2000) });
    }
    return { node, file, lines, matched };
  });
}
