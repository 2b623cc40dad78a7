import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJson, stringifyJson } from './history/json.js';
import { RESULTS_FILE, type Results, resultsSchema } from './results-schema.js';

export * from './linearizability-results.js';
export * from './results-schema.js';

/** Writes `dir/results.json` (validated; written to a temp file then renamed). Returns its path. */
export async function writeResults(dir: string, results: Results): Promise<string> {
  const checked = resultsSchema.parse(results);
  await mkdir(dir, { recursive: true });
  const file = join(dir, RESULTS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  // stringifyJson: an initial value or a checker's finding may hold a bigint.
  await writeFile(tmp, `${stringifyJson(checked, 2)}\n`);
  await rename(tmp, file);
  return file;
}

/** Reads and validates a `results.json`; errors name the file and the field. */
export async function readResults(file: string): Promise<Results> {
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = parseJson(text);
  } catch (e) {
    throw new Error(`${file}: not JSON: ${(e as Error).message}`);
  }
  const r = resultsSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`${file}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}
