/**
 * How far each membership change has moved the CASPaxos acceptor sets (`paxos/transition.ts`):
 * for a joining or leaving node, the change's version and the phase every proposer here uses
 * for the keys that change owners. Phases only grow within one version, and the table is written
 * to the data dir before a raise is acknowledged: a proposer that restarted and fell back to an
 * earlier phase could pick quorums that miss the ones in use elsewhere.
 */
import { join } from 'node:path';
import { NODE_ID_PATTERN } from '../config.js';
import { TRANSITION_PHASES } from '../paxos/transition.js';
import { readDurableList, writeDurably } from '../storage/durable-file.js';

export const LIN_PHASES_FILE = 'lin-phases.json';

interface Entry {
  version: number;
  phase: number;
}

const isEntry = (id: unknown, version: unknown, phase: unknown): boolean =>
  typeof id === 'string' &&
  NODE_ID_PATTERN.test(id) &&
  Number.isSafeInteger(version) &&
  (version as number) >= 0 &&
  Number.isInteger(phase) &&
  (phase as number) >= 0 &&
  (phase as number) <= TRANSITION_PHASES;

export class LinPhases {
  private readonly table = new Map<string, Entry>();

  constructor(private readonly file: string | undefined) {
    if (file) for (const [id, e] of readPersisted(file)) this.table.set(id, e);
  }

  static fileIn(dataDir: string): string {
    return join(dataDir, LIN_PHASES_FILE);
  }

  /** The phase of `node`'s change at `version` (0 when none was installed). */
  get(node: string, version: number): number {
    const e = this.table.get(node);
    return e && e.version === version ? e.phase : 0;
  }

  /** Installs `phase` for the change unless a later phase (or version) is already here. */
  raise(node: string, version: number, phase: number): boolean {
    const e = this.table.get(node);
    if (e && (e.version > version || (e.version === version && e.phase >= phase))) return false;
    this.table.set(node, { version, phase });
    if (this.file) {
      const rows = [...this.table].map(([id, x]) => [id, x.version, x.phase]);
      writeDurably(this.file, JSON.stringify({ phases: rows }) + '\n');
    }
    return true;
  }

  wire(): Array<[string, number, number]> {
    return [...this.table].map(([id, x]) => [id, x.version, x.phase]);
  }
}

function readPersisted(file: string): Array<[string, Entry]> {
  const rows = readDurableList(file, 'phases');
  const out: Array<[string, Entry]> = [];
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== 3)
      throw new Error(`${file}: bad row ${JSON.stringify(row)}`);
    const [id, version, phase] = row as unknown[];
    if (!isEntry(id, version, phase)) throw new Error(`${file}: bad row ${JSON.stringify(row)}`);
    out.push([id as string, { version: version as number, phase: phase as number }]);
  }
  return out;
}
