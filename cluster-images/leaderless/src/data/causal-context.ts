import type { CausalContext, Dot } from '../replica/types.js';
import { cmpStr } from './canonical.js';

/**
 * A mutable causal context: per actor a contiguous prefix `1..vv` plus a "cloud" of dots seen
 * beyond it. Dots move from the cloud into the prefix as gaps fill, so a context never claims
 * a dot it has not seen.
 */
export class Context {
  readonly vv = new Map<string, number>();
  readonly cloud = new Map<string, Set<number>>();

  static fromWire(w: CausalContext): Context {
    const c = new Context();
    for (const [a, n] of w.vv) if (n > (c.vv.get(a) ?? 0)) c.vv.set(a, n);
    for (const [a, n] of w.cloud) c.add(a, n);
    for (const a of c.vv.keys()) c.compact(a);
    return c;
  }

  has(actor: string, n: number): boolean {
    if (n <= (this.vv.get(actor) ?? 0)) return true;
    return this.cloud.get(actor)?.has(n) ?? false;
  }

  /** Record a dot as seen; returns whether it was new. */
  add(actor: string, n: number): boolean {
    if (this.has(actor, n)) return false;
    const top = this.vv.get(actor) ?? 0;
    if (n === top + 1) {
      this.vv.set(actor, n);
      this.compact(actor);
    } else {
      let s = this.cloud.get(actor);
      if (!s) {
        s = new Set();
        this.cloud.set(actor, s);
      }
      s.add(n);
    }
    return true;
  }

  /** Unite `other` into this context; returns whether anything was new. */
  mergeFrom(other: Context): boolean {
    let changed = false;
    for (const [a, n] of other.vv) {
      if (n > (this.vv.get(a) ?? 0)) {
        this.vv.set(a, n);
        const s = this.cloud.get(a);
        if (s) for (const m of s) if (m <= n) s.delete(m);
        this.compact(a);
        changed = true;
      }
    }
    for (const [a, s] of other.cloud) for (const n of s) if (this.add(a, n)) changed = true;
    return changed;
  }

  private compact(actor: string): void {
    const s = this.cloud.get(actor);
    if (!s) return;
    let top = this.vv.get(actor) ?? 0;
    for (const m of s) if (m <= top) s.delete(m);
    while (s.delete(top + 1)) top++;
    if (top > 0) this.vv.set(actor, top);
    if (s.size === 0) this.cloud.delete(actor);
  }

  clone(): Context {
    const c = new Context();
    for (const [a, n] of this.vv) c.vv.set(a, n);
    for (const [a, s] of this.cloud) c.cloud.set(a, new Set(s));
    return c;
  }

  toWire(): CausalContext {
    const vv = [...this.vv].filter(([, n]) => n > 0).sort((x, y) => cmpStr(x[0], y[0])) as Array<
      [string, number]
    >;
    const cloud: Dot[] = [];
    for (const a of [...this.cloud.keys()].sort(cmpStr)) {
      for (const n of [...(this.cloud.get(a) ?? [])].sort((x, y) => x - y)) cloud.push([a, n]);
    }
    return { vv, cloud };
  }
}
