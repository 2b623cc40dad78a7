/**
 * Key ownership in replica reads. A system whose replicas do not each hold every key names, in
 * each key's state of a replica-read answer, the nodes that own the key (`owners`, by the
 * answering node's view of placement). A key is then judged among the union of the owners
 * claimed for it by any node: an owner that lists nothing for the key holds the empty state,
 * and a non-owner's copy (a hint it holds for an owner, a leftover) is not judged. A key no
 * node claims owners for is judged on every node, as a system without owners is.
 */

/** The owners a key's state names: undefined when it names none, null when `owners` is malformed. */
export function claimedOwners(state: unknown): readonly string[] | undefined | null {
  if (typeof state !== 'object' || state === null) return undefined;
  const owners = (state as { owners?: unknown }).owners;
  if (owners === undefined) return undefined;
  if (!Array.isArray(owners)) return null;
  for (let i = 0; i < owners.length; i++) {
    const o = owners[i];
    if (typeof o !== 'string' || o === '') return null;
  }
  return owners as string[];
}

/**
 * Per key, the union of the owners claimed for it. Keys mostly share a few owner sets (with 5
 * nodes and 3 copies there are at most 10), so equal sets are one object: a million keys cost a
 * map entry each, not a set each.
 */
export class OwnerUnion {
  readonly byKey = new Map<string, ReadonlySet<string>>();
  private readonly interned = new Map<string, ReadonlySet<string>>();

  add(key: string, claimed: readonly string[]): void {
    const current = this.byKey.get(key);
    if (current !== undefined && claimed.every((o) => current.has(o))) return;
    this.byKey.set(key, this.intern(current === undefined ? claimed : [...current, ...claimed]));
  }

  private intern(owners: readonly string[]): ReadonlySet<string> {
    const sorted = [...new Set(owners)].sort();
    const id = sorted.join('\u0000');
    let set = this.interned.get(id);
    if (set === undefined) {
      set = new Set(sorted);
      this.interned.set(id, set);
    }
    return set;
  }
}

/** Whether `replica`'s copy of a key is judged: it owns the key, or no owners are known. */
export function judges(owners: ReadonlySet<string> | undefined, replica: string): boolean {
  return owners === undefined || owners.size === 0 || owners.has(replica);
}
