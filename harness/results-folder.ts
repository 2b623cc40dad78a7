import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { stringifyJson } from '../checker/history/json.js';

/** The files of a results folder (DESIGN.md, "Results folder"). */
export const FILES = {
  test: 'test.json',
  history: 'history.jsonl',
  results: 'results.json',
  timeline: 'timeline.html',
  latency: 'latency.svg',
  percentiles: 'latency-percentiles.svg',
  summary: 'summary.json',
  progress: 'progress.json',
  rate: 'rate.svg',
  nodes: 'nodes',
} as const;

/** A folder name from a time: `2026-11-22T22-15-30.123Z` (sortable, no colons). */
export function timestampName(date: Date): string {
  return date.toISOString().replaceAll(':', '-');
}

/** Creates `out/<name>/<timestamp>/` (with a suffix if two runs start in the same millisecond). */
export function createRunFolder(out: string, name: string, date = new Date()): string {
  const base = join(out, name, timestampName(date));
  let dir = base;
  for (let i = 1; existsSync(dir); i++) dir = `${base}-${i}`;
  mkdirSync(join(dir, FILES.nodes), { recursive: true });
  return dir;
}

/** Writes JSON atomically (temp file then rename): a reader never sees half a file. */
export function writeJsonFile(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${stringifyJson(value, 2)}\n`);
  renameSync(tmp, file);
}

/** Points `out/latest` at `dir` (relative link, replaced atomically). */
export function updateLatest(out: string, dir: string): void {
  const link = join(out, 'latest');
  const tmp = join(out, `.latest.${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(relative(dirname(link), dir), tmp);
  renameSync(tmp, link);
}

/** faultline's own version (package.json). */
export function faultlineVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'faultline' && pkg.version) return pkg.version;
    } catch {
      // try the next location (source vs dist layout)
    }
  }
  return 'unknown';
}
