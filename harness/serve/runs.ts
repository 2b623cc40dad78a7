import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FILES } from '../results-folder.js';
import type { ProgressFile } from '../run/progress-file.js';
import { progressFileSchema } from '../run/progress-file.js';
import type { RunSummary } from '../run-summary.js';
import { readRunSummary } from '../run-summary.js';

/**
 * The runs of a results folder as `faultline serve` lists them: `<root>/<name>/<timestamp>/`
 * folders with a test.json. A finished run is read from its summary.json alone (small, so an
 * index of a thousand runs stays quick); a run without one from its test.json.
 */

/** What test.json tells of a run that has no summary.json yet (still running, or crashed). */
const testJsonSchema = z
  .object({
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    seed: z.number().optional(),
    status: z.string().optional(),
    verdict: z.string().optional(),
    reasons: z.array(z.string()).optional(),
    error: z.string().optional(),
    nodes: z.array(z.string()).optional(),
    spec: z
      .object({
        name: z.string().optional(),
        system: z.string().optional(),
        backend: z.string().optional(),
        workload: z.object({ name: z.string() }).loose().optional(),
        nemesis: z
          .object({ faults: z.array(z.string()).optional() })
          .loose()
          .optional(),
        timeLimit: z.number().optional(),
        nodes: z.number().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type TestJson = z.infer<typeof testJsonSchema>;

export interface RunEntry {
  /** `<name>/<timestamp>`: the run's path under the root, and its id in URLs. */
  id: string;
  name: string;
  folder: string;
  dir: string;
  startedAt: string;
  system: string;
  workload: string;
  faults: string[];
  status: string;
  verdict: string;
  seed: number | null;
  ops: number | null;
  durationS: number | null;
  summary?: RunSummary;
  test?: TestJson;
}

/** A folder or file name that may appear in a URL: no separators, no `.` or `..`. */
export function safeName(s: string): boolean {
  return s !== '' && s !== '.' && s !== '..' && !/[/\\\0]/.test(s);
}

/** The JSON value of `text`; undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A file's JSON value; undefined when it is missing or not JSON. */
function readJson(file: string): unknown {
  try {
    return parseJson(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function readTestJson(dir: string): TestJson | undefined {
  const parsed = testJsonSchema.safeParse(readJson(join(dir, FILES.test)));
  return parsed.success ? parsed.data : undefined;
}

/** One run folder as an entry (undefined when it is not a run folder). */
export function readRun(root: string, name: string, folder: string): RunEntry | undefined {
  if (!safeName(name) || !safeName(folder)) return undefined;
  const dir = join(root, name, folder);
  let summary: RunSummary | undefined;
  try {
    summary = readRunSummary(readFileSync(join(dir, FILES.summary), 'utf8'));
  } catch {
    summary = undefined;
  }
  const test = readTestJson(dir);
  if (summary === undefined && test === undefined) return undefined;
  const spec = test?.spec;
  // test.json has the newest status (a crash found later); summary.json the rest.
  const status = test?.status ?? summary?.status ?? 'unknown';
  return {
    id: `${name}/${folder}`,
    name,
    folder,
    dir,
    startedAt: summary?.startedAt ?? test?.startedAt ?? folder,
    system: summary?.system ?? spec?.system ?? '?',
    workload: summary?.workload ?? spec?.workload?.name ?? '?',
    faults: summary?.faults ?? spec?.nemesis?.faults ?? [],
    status,
    verdict: status === 'running' ? 'running' : (summary?.verdict ?? test?.verdict ?? 'unknown'),
    seed: summary?.seed ?? test?.seed ?? null,
    ops: summary?.ops.total ?? null,
    durationS: summary?.durationS ?? null,
    ...(summary !== undefined ? { summary } : {}),
    ...(test !== undefined ? { test } : {}),
  };
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && safeName(d.name) && !d.name.startsWith('.'))
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** Every run under `root`, newest first. */
export function listRuns(root: string): RunEntry[] {
  const out: RunEntry[] = [];
  for (const name of subdirs(root)) {
    for (const folder of subdirs(join(root, name))) {
      const run = readRun(root, name, folder);
      if (run !== undefined) out.push(run);
    }
  }
  return out.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}

export interface LiveProgress {
  status: string;
  /** Events recorded so far, and the time of the last one (s since the run started). */
  events: number;
  elapsedS: number;
  timeLimitS: number | null;
  ops: number;
  /** From progress.json, when the run writes one: its phase, counts, rate and faults now. */
  report?: ProgressFile;
}

/** What liveProgress reads of a history line. */
const tailEventSchema = z.object({ index: z.number(), time: z.number() }).loose();

/** How far a run has got: its progress.json, and the tail of its history (never the whole file). */
export function liveProgress(dir: string): LiveProgress {
  const test = readTestJson(dir);
  let events = 0;
  let elapsedS = 0;
  let ops = 0;
  try {
    const file = join(dir, FILES.history);
    const size = statSync(file).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, len, size - len);
    } finally {
      closeSync(fd);
    }
    const lines = buf.toString('utf8').split('\n').filter(Boolean);
    for (let i = lines.length - 1; i >= 0; i--) {
      const parsed = tailEventSchema.safeParse(parseJson(lines[i]!));
      if (!parsed.success) continue;
      events = parsed.data.index + 1;
      elapsedS = parsed.data.time / 1e9;
      break;
    }
    ops = Math.floor(events / 2);
  } catch {
    // no history yet
  }
  const report = progressFileSchema.safeParse(readJson(join(dir, FILES.progress)));
  return {
    status: test?.status ?? 'unknown',
    events,
    elapsedS,
    timeLimitS: test?.spec?.timeLimit ?? null,
    ops,
    ...(report.success ? { report: report.data } : {}),
  };
}
