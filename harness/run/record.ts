import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { processAlive } from '../../core/process.js';
import { FILES, writeJsonFile } from '../results-folder.js';
import type { RecordedStatus, RunStatus } from '../run-verdict.js';
import { RUN_STATUSES } from '../run-verdict.js';

/**
 * test.json: what a run records of itself, written when it starts and updated as it goes (its
 * status last). A re-check and `faultline clean` read it back.
 */
export interface RunRecord {
  status: RecordedStatus;
  [field: string]: unknown;
}

/** test.json of one run folder, rewritten atomically at every update. */
export class RunRecordFile {
  constructor(
    readonly dir: string,
    private readonly record: RunRecord,
  ) {
    this.save({});
  }

  save(fields: Partial<RunRecord>): void {
    Object.assign(this.record, fields);
    writeJsonFile(join(this.dir, FILES.test), this.record);
  }
}

/** Who runs a run: a re-check or `faultline clean` finds a run whose process is gone (crashed). */
export function runnerIdentity(): { pid: number; host: string } {
  return { pid: process.pid, host: hostname() };
}

/** The part of a run folder's test.json that a re-check needs (the runner writes all of it). */
export const runTestJsonSchema = z
  .object({
    spec: z.unknown(),
    seed: z.number(),
    plan: z.unknown().optional(),
    status: z.string().optional(),
    error: z.string().optional(),
    pid: z.number().int().optional(),
    host: z.string().optional(),
    warnings: z.array(z.string()).optional(),
    problems: z.array(z.string()).optional(),
  })
  .loose();

/**
 * A run's status as test.json records it, with a crash found: a run still marked `running` whose
 * process is gone (killed, machine restarted) is `crashed`, and test.json is updated to say so.
 * `running` stays when its process still runs here (or ran on another host: unknowable).
 */
export function settleRunStatus(
  dir: string,
): { status: RecordedStatus; crashFound: boolean; error?: string } | undefined {
  const file = join(dir, FILES.test);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (json.status !== 'running') {
    const status = normalStatus(json.status);
    return status === undefined ? undefined : { status, crashFound: false };
  }
  const pid = typeof json.pid === 'number' ? json.pid : undefined;
  const here = json.host === undefined || json.host === hostname();
  const alive = pid !== undefined && pid !== process.pid && processAlive(pid);
  if (!here || alive) return { status: 'running', crashFound: false };
  const error =
    'its process is gone (killed, or the machine stopped) while the run was in progress';
  writeJsonFile(file, {
    ...json,
    status: 'crashed',
    error,
    crashDetectedAt: new Date().toISOString(),
  });
  return { status: 'crashed', crashFound: true, error };
}

/** Statuses of older test.json files ("error", "failed") in today's words. */
function normalStatus(status: unknown): RecordedStatus | undefined {
  if (status === 'error') return 'crashed';
  if (status === 'failed') return 'failed-to-start';
  return RUN_STATUSES.includes(status as RunStatus) || status === 'running'
    ? (status as RecordedStatus)
    : undefined;
}
