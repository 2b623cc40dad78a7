/** The files of a results folder that `faultline check` looks for (no zod: see ./flags.ts). */
import { statSync } from 'node:fs';

export const TEST_FILE = 'test.json';
export const HISTORY_FILE = 'history.jsonl';

/**
 * Whether `path` is a folder. Synchronous: asked twice per argument, and with seventy small
 * histories in one call the round trips of asynchronous stats were a visible share of the time.
 */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
