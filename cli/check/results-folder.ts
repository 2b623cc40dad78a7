import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJson } from '../../checker/history/json.js';
import { UsageError } from '../exit-codes.js';
import { TEST_FILE } from './paths.js';

/**
 * The part of a results folder's `test.json` that `faultline check FOLDER` reads: how the run's
 * history is to be checked. The harness writes the whole file; other fields are ignored here.
 */
export const testCheckSchema = z
  .object({
    check: z
      .object({
        model: z.string().min(1),
        initial: z.unknown().optional(),
        partition: z.boolean().optional(),
      })
      .loose(),
  })
  .loose();

export type TestCheck = z.infer<typeof testCheckSchema>['check'];

export { HISTORY_FILE, isDirectory, TEST_FILE } from './paths.js';

/** Reads `DIR/test.json`'s check settings; a missing or malformed file is a UsageError. */
export async function readTestCheck(dir: string): Promise<TestCheck> {
  const file = join(dir, TEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(
      `${dir} is a folder but has no ${TEST_FILE}: pass a history file, or a results folder written by faultline run`,
    );
  }
  let json: unknown;
  try {
    json = parseJson(text);
  } catch (e) {
    throw new UsageError(`${file}: not JSON: ${(e as Error).message}`);
  }
  const r = testCheckSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UsageError(`${file}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data.check;
}
