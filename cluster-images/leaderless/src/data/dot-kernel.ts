import type { CausalContext, Json } from '../replica/types.js';
import { canonicalJson, cmpStr, md5 } from './canonical.js';
import { Context } from './causal-context.js';

type Entry = [actor: string, counter: number, value: Json];

/**
 * A dot kernel (mutable, merged in place): a causal context plus the live dots, each carrying a
 * value. It backs both the multi-value register (siblings) and the add-wins OR-set.
 *
 * Join rule, per dot: it survives if both sides hold it, or one side holds it and the other's
 * context has not seen it (a dot seen but not held was superseded or removed there).
 */
export class DotKernel {
  ctx = new Context();
  /** actor → counter → value */
  readonly live = new Map<string, Map<number, Json>>();
  private size = 0;
  /**
   * XOR of a 64-bit hash of every live (dot, value), kept up to date on each change so a
   * digest of a large set costs O(context), not O(elements).
   */
  private x1 = 0;
  private x2 = 0;

  static fromWire(w: { ctx: CausalContext; dots: readonly Entry[] }): DotKernel {
    const k = new DotKernel();
    k.mergeWire(w);
    return k;
  }

  get liveCount(): number {
    return this.size;
  }

  /** Join a wire-shaped kernel into this one; returns whether anything changed. */
  mergeWire(w: { ctx: CausalContext; dots: readonly Entry[] }): boolean {
    const inCtx = Context.fromWire(w.ctx);
    const inLive = new Map<string, Map<number, Json>>();
    for (const [a, n, v] of w.dots) {
      inCtx.add(a, n); // a held dot is a seen dot, even if a peer forgot to say so
      let m = inLive.get(a);
      if (!m) {
        m = new Map();
        inLive.set(a, m);
      }
      if (!m.has(n)) m.set(n, v);
    }
    let changed = false;
    // 1. dots held there, unseen here: add
    for (const [a, m] of inLive) {
      for (const [n, v] of m) {
        if (!this.ctx.has(a, n)) {
          this.put(a, n, v);
          changed = true;
        }
      }
    }
    // 2. dots held here, seen there but not held there: drop
    const dropIfGone = (a: string, n: number): void => {
      if (!inLive.get(a)?.has(n) && this.del(a, n)) changed = true;
    };
    for (const [a, top] of inCtx.vv) {
      const m = this.live.get(a);
      if (!m) continue;
      // whichever is smaller: the covered range, or this actor's live dots
      if (top <= m.size) {
        for (let n = 1; n <= top; n++) if (m.has(n)) dropIfGone(a, n);
      } else {
        for (const n of [...m.keys()]) if (n <= top) dropIfGone(a, n);
      }
    }
    for (const [a, s] of inCtx.cloud) {
      if (!this.live.has(a)) continue;
      for (const n of s) dropIfGone(a, n);
    }
    // 3. contexts unite
    if (this.ctx.mergeFrom(inCtx)) changed = true;
    return changed;
  }

  private put(a: string, n: number, v: Json): void {
    let m = this.live.get(a);
    if (!m) {
      m = new Map();
      this.live.set(a, m);
    }
    if (m.has(n)) return;
    this.size++;
    m.set(n, v);
    this.toggle(a, n, v);
  }

  private toggle(a: string, n: number, v: Json): void {
    const h = md5(`${a}\u0000${n}\u0000${canonicalJson(v)}`);
    this.x1 ^= h.readUInt32BE(0);
    this.x2 ^= h.readUInt32BE(4);
  }

  /** A stable summary of this kernel: equal kernels give equal strings. */
  digestInput(): string {
    return `${JSON.stringify(this.ctx.toWire())}|${this.size}|${this.x1 >>> 0}|${this.x2 >>> 0}`;
  }

  private del(a: string, n: number): boolean {
    const m = this.live.get(a);
    if (!m?.has(n)) return false;
    this.toggle(a, n, m.get(n)!);
    m.delete(n);
    this.size--;
    if (m.size === 0) this.live.delete(a);
    return true;
  }

  /** Live entries in dot order (actor, then counter). */
  entries(): Entry[] {
    const out: Entry[] = [];
    for (const a of [...this.live.keys()].sort(cmpStr)) {
      const m = this.live.get(a)!;
      for (const n of [...m.keys()].sort((x, y) => x - y)) out.push([a, n, m.get(n)!]);
    }
    return out;
  }

  toWire(): { ctx: CausalContext; dots: Entry[] } {
    return { ctx: this.ctx.toWire(), dots: this.entries() };
  }
}
