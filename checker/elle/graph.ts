/**
 * The dependency graph over transaction ids: edges collected in flat typed arrays, then packed
 * into compressed adjacency (CSR). An edge carries a bit mask of its kinds (./types.ts); the
 * same pair may appear more than once, which the searches tolerate.
 */

export class EdgeCollector {
  private from = new Int32Array(1024);
  private to = new Int32Array(1024);
  private kind = new Uint8Array(1024);
  size = 0;

  add(from: number, to: number, kind: number): void {
    if (from === to) return; // a txn's view of itself is the internal check's business
    if (this.size === this.from.length) this.grow();
    this.from[this.size] = from;
    this.to[this.size] = to;
    this.kind[this.size] = kind;
    this.size += 1;
  }

  private grow(): void {
    const n = this.from.length * 2;
    const from = new Int32Array(n);
    from.set(this.from);
    const to = new Int32Array(n);
    to.set(this.to);
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    this.from = from;
    this.to = to;
    this.kind = kind;
  }

  /** The graph on `nodes` nodes, keeping only edges of the kinds in `mask`. */
  build(nodes: number, mask: number): Graph {
    const offsets = new Int32Array(nodes + 1);
    for (let i = 0; i < this.size; i++)
      if ((this.kind[i]! & mask) !== 0) offsets[this.from[i]! + 1]! += 1;
    for (let v = 0; v < nodes; v++) offsets[v + 1]! += offsets[v]!;
    const fill = offsets.slice(0, nodes);
    const targets = new Int32Array(offsets[nodes]!);
    const kinds = new Uint8Array(offsets[nodes]!);
    for (let i = 0; i < this.size; i++) {
      const k = this.kind[i]! & mask;
      if (k === 0) continue;
      const at = fill[this.from[i]!]!;
      fill[this.from[i]!] = at + 1;
      targets[at] = this.to[i]!;
      kinds[at] = k;
    }
    return { nodes, offsets, targets, kinds };
  }
}

export interface Graph {
  nodes: number;
  /** Edges of node v are at offsets[v] .. offsets[v+1]. */
  offsets: Int32Array;
  targets: Int32Array;
  kinds: Uint8Array;
}
