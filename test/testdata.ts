/**
 * The reference histories in ../shared/testdata (read in place, never copied) and the verdicts
 * their authors published, from each folder's expected.tsv.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TESTDATA = fileURLToPath(new URL('../../shared/testdata/', import.meta.url));

export interface ReferenceHistory {
  /** Path relative to TESTDATA, e.g. `porcupine/etcd/etcd_000.log`. */
  name: string;
  file: string;
  linearizable: boolean;
}

/** The rows of `<folder>/expected.tsv` (`file<TAB>linearizable`). */
export function expectedVerdicts(folder: string): ReferenceHistory[] {
  const tsv = readFileSync(join(TESTDATA, folder, 'expected.tsv'), 'utf8');
  return tsv
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const [file, verdict] = line.split('\t');
      if (file === undefined || (verdict?.trim() !== 'true' && verdict?.trim() !== 'false')) {
        throw new Error(`${folder}/expected.tsv:${i + 2}: expected file<TAB>true|false`);
      }
      return {
        name: `${folder}/${file}`,
        file: join(TESTDATA, folder, file),
        linearizable: verdict.trim() === 'true',
      };
    });
}
