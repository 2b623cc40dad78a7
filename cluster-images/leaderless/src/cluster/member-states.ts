/**
 * Who belongs to the cluster: for every node ever named, a status and a version. A change is
 * made by bumping the node's version (the admin API on any node, or a node moving itself on once
 * its hand-off is done) and spreads by gossip; the entry with the higher version wins, and at an
 * equal version the later status in the life cycle wins, so every node that has heard the same
 * entries holds the same table whatever the order it heard them in. The table is written to the
 * data dir on every change (temporary file, fsync, rename), so a restart keeps it.
 *
 * Life cycle: joining → member → leaving → left (→ joining again when re-added).
 * Ring membership: the "read" ring is member + leaving (who holds the data now), the "target"
 * ring is joining + member (who will hold it once the moves complete).
 */
import { join } from 'node:path';
import { NODE_ID_PATTERN } from '../config.js';
import { readDurableList, writeDurably } from '../storage/durable-file.js';

export const STATUSES = ['joining', 'member', 'leaving', 'left'] as const;
export type MemberStatus = (typeof STATUSES)[number];

export interface MemberState {
  status: MemberStatus;
  version: number;
}

/** One gossiped entry: `[node id, status, version]`. */
export type MemberStateWire = [string, MemberStatus, number];

const rank = (s: MemberStatus) => STATUSES.indexOf(s);

/** Whether `a` supersedes `b` (higher version; at equal versions, later in the life cycle). */
export function supersedes(a: MemberState, b: MemberState | undefined): boolean {
  if (!b) return true;
  return a.version > b.version || (a.version === b.version && rank(a.status) > rank(b.status));
}

const isVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isStatus = (v: unknown): v is MemberStatus =>
  typeof v === 'string' && (STATUSES as readonly string[]).includes(v);

export const MEMBERSHIP_FILE = 'membership.json';

export class MemberStates {
  private readonly table = new Map<string, MemberState>();
  private readonly listeners: Array<(changed: string[]) => void> = [];

  /**
   * @param known the ids this node can reach (its pool): entries about other ids are ignored,
   *   since a ring member nobody can address could never be written to.
   * @param initial the entries to start from when nothing was persisted (or older than these).
   * @param file where the table is kept (undefined: not persisted).
   */
  constructor(
    private readonly known: ReadonlySet<string>,
    initial: Iterable<[string, MemberState]>,
    private readonly file: string | undefined,
  ) {
    for (const [id, st] of initial) this.table.set(id, { ...st });
    if (file) {
      for (const [id, st] of readPersisted(file)) {
        if (supersedes(st, this.table.get(id))) this.table.set(id, st);
      }
    }
  }

  static fileIn(dataDir: string): string {
    return join(dataDir, MEMBERSHIP_FILE);
  }

  /** Called after every change with the ids whose entry changed. */
  onChange(fn: (changed: string[]) => void): void {
    this.listeners.push(fn);
  }

  get(id: string): MemberState | undefined {
    const st = this.table.get(id);
    return st ? { ...st } : undefined;
  }

  entries(): Array<[string, MemberState]> {
    return [...this.table].map(([id, st]) => [id, { ...st }]);
  }

  wire(): MemberStateWire[] {
    return [...this.table].map(([id, st]) => [id, st.status, st.version]);
  }

  /** Ids with one of these statuses, sorted. */
  withStatus(...statuses: MemberStatus[]): string[] {
    return [...this.table]
      .filter(([, st]) => statuses.includes(st.status))
      .map(([id]) => id)
      .sort();
  }

  readRingMembers(): string[] {
    return this.withStatus('member', 'leaving');
  }

  targetRingMembers(): string[] {
    return this.withStatus('joining', 'member');
  }

  /** A node is still joining or leaving: some ranges are moving. */
  movePending(): boolean {
    return this.withStatus('joining', 'leaving').length > 0;
  }

  /** Merges gossiped entries (each checked; unknown ids and garbage are skipped). */
  merge(entries: readonly unknown[]): boolean {
    const changed: string[] = [];
    for (const e of entries) {
      if (!Array.isArray(e) || e.length !== 3) continue;
      const [id, status, version] = e as unknown[];
      if (typeof id !== 'string' || !NODE_ID_PATTERN.test(id) || !this.known.has(id)) continue;
      if (!isStatus(status) || !isVersion(version)) continue;
      const st: MemberState = { status, version };
      if (supersedes(st, this.table.get(id))) {
        this.table.set(id, st);
        changed.push(id);
      }
    }
    if (changed.length > 0) this.changed(changed);
    return changed.length > 0;
  }

  /** Makes a change decided here: `id` takes `status` with a version above any seen for it. */
  set(id: string, status: MemberStatus): MemberState {
    const st: MemberState = { status, version: (this.table.get(id)?.version ?? 0) + 1 };
    this.table.set(id, st);
    this.changed([id]);
    return { ...st };
  }

  private changed(ids: string[]): void {
    if (this.file) persist(this.file, this.wire());
    for (const fn of this.listeners) fn(ids);
  }
}

function readPersisted(file: string): Array<[string, MemberState]> {
  const list = readDurableList(
    file,
    'members',
    " (remove it to start from the command line's view)",
  );
  const out: Array<[string, MemberState]> = [];
  for (const e of list) {
    if (!Array.isArray(e) || e.length !== 3) continue;
    const [id, status, version] = e as unknown[];
    if (
      typeof id === 'string' &&
      NODE_ID_PATTERN.test(id) &&
      isStatus(status) &&
      isVersion(version)
    ) {
      out.push([id, { status, version }]);
    }
  }
  return out;
}

function persist(file: string, members: MemberStateWire[]): void {
  writeDurably(file, JSON.stringify({ members }) + '\n');
}
