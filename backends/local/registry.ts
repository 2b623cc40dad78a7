import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { processAlive } from '../../core/process.js';

/**
 * The run registry: one JSON file per live local run, `<dir>/<runId>.json`, rewritten whenever
 * its processes change. A harness that dies without teardown (SIGKILL) leaves its file behind;
 * `clean()` uses it to find and kill the run's node process groups and remove its data dir.
 */
export const RUN_ENV_VAR = 'FAULTLINE_RUN_ID';

export function defaultRegistryDir(): string {
  return join(tmpdir(), 'faultline', 'runs');
}

export const RunEntrySchema = z.object({
  runId: z.string().min(1),
  harnessPid: z.number().int().positive(),
  createdAt: z.string(),
  /** node → its current process group (the leader's pid), null while it is down. */
  nodes: z.record(z.string(), z.number().int().positive().nullable()),
  clientPorts: z.record(z.string(), z.number().int()),
  peerPorts: z.record(z.string(), z.number().int()),
  proxyPorts: z.array(z.number().int()),
  dataRoot: z.string(),
  /** The run created dataRoot itself, so cleaning may remove it. */
  ownsDataRoot: z.boolean(),
});
export type RunEntry = z.infer<typeof RunEntrySchema>;

/** Run ids become file names: keep them to a safe alphabet. */
export function checkRunId(runId: string): void {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(runId)) {
    throw new Error(`run id ${JSON.stringify(runId)}: use 1-128 letters, digits, '.', '_' or '-'`);
  }
}

export function writeRunEntry(dir: string, entry: RunEntry): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${entry.runId}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(entry, null, 2)}\n`);
  renameSync(tmp, file);
}

export function removeRunEntry(dir: string, runId: string): void {
  rmSync(join(dir, `${runId}.json`), { force: true });
}

export interface RegistryRead {
  entries: RunEntry[];
  /** Files that could not be parsed, with why (named by file and field). */
  invalid: { file: string; error: string }[];
}

export function readRunEntries(dir: string): RegistryRead {
  const out: RegistryRead = { entries: [], invalid: [] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const file = join(dir, name);
    try {
      const parsed = RunEntrySchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (parsed.success) out.entries.push(parsed.data);
      else {
        const issue = parsed.error.issues[0];
        out.invalid.push({
          file,
          error: `${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`,
        });
      }
    } catch (err) {
      // A file being renamed into place or removed right now; or garbage.
      out.invalid.push({ file, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

/** Whether /proc lists processes with their environment (Linux). */
export function canScanProcesses(): boolean {
  try {
    readFileSync('/proc/self/environ');
    return true;
  } catch {
    return false;
  }
}

/**
 * Live processes started by the run `runId` (every node process carries `FAULTLINE_RUN_ID`
 * in its environment, and so do its children). Linux only: [] where /proc is missing.
 */
export function processesOfRun(runId: string): number[] {
  const needle = Buffer.from(`${RUN_ENV_VAR}=${runId}\u0000`);
  const pids: number[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const env = readFileSync(`/proc/${name}/environ`);
      if (env.includes(needle) && processAlive(pid)) pids.push(pid);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}
