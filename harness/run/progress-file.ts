import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FILES } from '../results-folder.js';
import type { Progress } from './session.js';

/**
 * progress.json: where a run stands, rewritten every couple of seconds while it runs (and once at
 * the end), so that `faultline serve` can show a run in progress live: phase, counts, rate and the
 * faults in effect. Written whole to a temporary name and renamed, so a reader never sees half.
 */

export const progressFileSchema = z.object({
  /** When this was written (ISO). */
  at: z.string(),
  phase: z.string(),
  elapsedS: z.number(),
  limitS: z.number(),
  opsPerS: z.number(),
  ok: z.number(),
  fail: z.number(),
  info: z.number(),
  faults: z.string(),
});
export type ProgressFile = z.infer<typeof progressFileSchema>;

export function writeProgressFile(dir: string, p: Progress, now = new Date()): void {
  const file = join(dir, FILES.progress);
  const body: ProgressFile = { at: now.toISOString(), ...p };
  try {
    writeFileSync(`${file}.tmp`, `${JSON.stringify(body)}\n`);
    renameSync(`${file}.tmp`, file);
  } catch {
    // A progress report that cannot be written costs the live view, never the run.
  }
}
