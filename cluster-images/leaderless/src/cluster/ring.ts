/**
 * Consistent hashing with virtual nodes over the static membership. Each member owns `vnodes`
 * points on a 32-bit ring (md5 of "id#i"); a key hashes to a point and its preference list is the
 * first N distinct members met walking clockwise from there. Placement depends only on the
 * membership and vnodes, so every node computes the same lists.
 */
import { md5 } from '../data/canonical.js';

export function hash32(s: string): number {
  return md5(s).readUInt32BE(0);
}

export class Ring {
  private readonly points: Uint32Array;
  private readonly owners: string[];
  readonly members: readonly string[];
  /** Recently computed walks (placement is pure, so caching is safe); bounded. */
  private readonly cache = new Map<string, string[]>();
  private static readonly CACHE_SIZE = 50_000;

  constructor(members: readonly string[], vnodes: number) {
    if (members.length === 0) throw new Error('a ring needs at least one member');
    this.members = [...members].sort();
    const entries: Array<{ p: number; id: string }> = [];
    for (const id of this.members) {
      for (let i = 0; i < vnodes; i++) entries.push({ p: hash32(`${id}#${i}`), id });
    }
    // Ties (astronomically rare) broken by id so that every node sorts identically.
    entries.sort((a, b) => a.p - b.p || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.points = Uint32Array.from(entries.map((e) => e.p));
    this.owners = entries.map((e) => e.id);
  }

  /** Index of the first point at or after h (wrapping). */
  private successor(h: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.points.length ? 0 : lo;
  }

  /** Every member, in the clockwise order first met from the key's position. */
  walk(key: string): string[] {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const out = this.computeWalk(key);
    if (this.cache.size >= Ring.CACHE_SIZE) this.cache.clear();
    this.cache.set(key, out);
    return out;
  }

  private computeWalk(key: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    let i = this.successor(hash32(key));
    for (let steps = 0; steps < this.points.length && out.length < this.members.length; steps++) {
      const id = this.owners[i]!;
      if (!seen.has(id)) {
        seen.add(id);
        out.push(id);
      }
      i = i + 1 === this.points.length ? 0 : i + 1;
    }
    return out;
  }

  /** The key's preference list: the first n distinct members clockwise. */
  preferenceList(key: string, n: number): string[] {
    return this.walk(key).slice(0, n);
  }
}
