/**
 * The memoisation cache of the linearizability search (Lowe's improvement of Wing & Gong): a set
 * of (linearized operations as a bitset, model state) pairs already explored.
 *
 * Open addressing over typed arrays; bitsets are stored trimmed: the leading all-ones words and
 * the trailing zero words are left out (the search numbers operations so that a linearized set
 * looks like 1111[window]0000, with the indeterminate operations in a segment of their own),
 * which keeps an entry small even for a long history.
 */
const META = 6;

export class StateCache<S> {
  private table: Int32Array;
  private mask: number;
  /** Per entry (META ints): hash, lo, len, lo2, len2, arena offset. */
  private meta: Int32Array;
  private arena: Int32Array;
  private arenaUsed = 0;
  private readonly states: S[] = [];
  size = 0;

  constructor(
    private readonly equal: (a: S, b: S) => boolean,
    private readonly maxEntries: number,
  ) {
    this.table = new Int32Array(1024);
    this.mask = 1023;
    this.meta = new Int32Array(META * 256);
    this.arena = new Int32Array(1024);
  }

  /**
   * Adds (bits, state) unless present. The bitset has two segments: words [0, split) for
   * operations with a finite return, whose stored range [lo, hi] the search tracks (everything
   * before lo is ones, everything after hi zeros), and words [split, bits.length) for the
   * indeterminate ones, trimmed here. Returns 1 when added, 0 when already present, -1 when the
   * cache is full (the entry was not added).
   */
  add(hash: number, bits: Int32Array, lo: number, hi: number, split: number, state: S): number {
    const words = bits.length;
    const len = hi - lo + 1;
    let lo2 = split;
    while (lo2 < words && bits[lo2] === -1) lo2++;
    let hi2 = words - 1;
    while (hi2 >= lo2 && bits[hi2] === 0) hi2--;
    const len2 = hi2 - lo2 + 1;
    const table = this.table;
    const meta = this.meta;
    const arena = this.arena;
    let slot = hash & this.mask;
    for (;;) {
      const e = table[slot]! - 1;
      if (e < 0) break;
      const m = e * META;
      if (
        meta[m] === hash &&
        meta[m + 1] === lo &&
        meta[m + 2] === len &&
        meta[m + 3] === lo2 &&
        meta[m + 4] === len2
      ) {
        const off = meta[m + 5]!;
        let same = true;
        for (let w = 0; w < len; w++) {
          if (arena[off + w] !== bits[lo + w]) {
            same = false;
            break;
          }
        }
        for (let w = 0; same && w < len2; w++) {
          if (arena[off + len + w] !== bits[lo2 + w]) same = false;
        }
        if (same && this.equal(this.states[e]!, state)) return 0;
      }
      slot = (slot + 1) & this.mask;
    }
    if (this.size >= this.maxEntries) return -1;
    const e = this.size++;
    if ((e + 1) * META > meta.length) this.meta = grow(meta, meta.length * 2);
    const need = len + len2;
    if (this.arenaUsed + need > this.arena.length) {
      this.arena = grow(this.arena, Math.max(this.arena.length * 2, this.arenaUsed + need));
    }
    const off = this.arenaUsed;
    if (len > 0) this.arena.set(bits.subarray(lo, lo + len), off);
    if (len2 > 0) this.arena.set(bits.subarray(lo2, lo2 + len2), off + len);
    this.arenaUsed += need;
    const m = e * META;
    this.meta[m] = hash;
    this.meta[m + 1] = lo;
    this.meta[m + 2] = len;
    this.meta[m + 3] = lo2;
    this.meta[m + 4] = len2;
    this.meta[m + 5] = off;
    this.states.push(state);
    table[slot] = e + 1;
    if (this.size * 2 > table.length) this.rehash();
    return 1;
  }

  private rehash(): void {
    const size = this.table.length * 2;
    const table = new Int32Array(size);
    const mask = size - 1;
    for (let e = 0; e < this.size; e++) {
      let slot = this.meta[e * META]! & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = e + 1;
    }
    this.table = table;
    this.mask = mask;
  }
}

function grow(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}
