/**
 * The replicated eventual data types as mutable, in-place-merged objects, plus their pure views.
 * Wire shapes are in ../replica/types.ts. Every `merge` is a join: commutative, associative and
 * idempotent (property-tested in crdt.test.ts).
 */
import {
  type CausalContext,
  CausalContextSchema,
  type Json,
  type KvView,
  type LwwState,
  type MvState,
  type OrSetState,
  type PnState,
  ReplicaInputError,
  type State,
} from '../replica/types.js';
import { canonicalJson, cmpStr, hashString } from './canonical.js';
import { Context } from './causal-context.js';
import { DotKernel } from './dot-kernel.js';

export type Kind = State['t'];

export interface Crdt {
  readonly kind: Kind;
  /** Join `s` (of the same kind) into this object; returns whether anything changed. */
  merge(s: State): boolean;
  /** Normal form (sorted, deduplicated): equal states give equal canonical JSON. */
  toState(): State;
  /** A stable hash: equal states (on any node) give equal digests. */
  digest(): string;
}

// -- lww --------------------------------------------------------------------------------------

/** Total order on lww versions: (ts, node, seq), then tombstone over value, then the value. */
export function lwwCompare(a: LwwState, b: LwwState): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  const byNode = cmpStr(a.node, b.node);
  if (byNode !== 0) return byNode;
  if (a.seq !== b.seq) return a.seq - b.seq;
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  return cmpStr(canonicalJson(a.value), canonicalJson(b.value));
}

class LwwRegister implements Crdt {
  readonly kind = 'lww';
  constructor(private cur: LwwState) {}
  merge(s: State): boolean {
    const w = s as LwwState;
    if (lwwCompare(w, this.cur) <= 0) return false;
    this.cur = w;
    return true;
  }
  toState(): LwwState {
    return this.cur;
  }
  digest(): string {
    return hashString(lwwCanonical(this.cur));
  }
}

/** canonicalJson of an lww state, written out (it runs once per stored change). */
export function lwwCanonical(s: LwwState): string {
  return `{"deleted":${JSON.stringify(s.deleted)},"node":${JSON.stringify(s.node)},"seq":${JSON.stringify(s.seq)},"t":"lww","ts":${JSON.stringify(s.ts)},"value":${canonicalJson(s.value)}}`;
}

// -- dot kernels (siblings register, OR-set) ---------------------------------------------------

class KernelCrdt implements Crdt {
  private readonly k = new DotKernel();
  constructor(readonly kind: 'mv' | 'orset') {}
  merge(s: State): boolean {
    return this.k.mergeWire(s as MvState | OrSetState);
  }
  toState(): MvState | OrSetState {
    return { t: this.kind, ...this.k.toWire() } as MvState | OrSetState;
  }
  digest(): string {
    return hashString(`${this.kind}|${this.k.digestInput()}`);
  }
}

// -- PN-counter --------------------------------------------------------------------------------

function mergeSlots(into: Map<string, number>, from: ReadonlyArray<[string, number]>): boolean {
  let changed = false;
  for (const [a, n] of from) {
    if (n > (into.get(a) ?? 0)) {
      into.set(a, n);
      changed = true;
    }
  }
  return changed;
}

function sortedSlots(m: Map<string, number>): Array<[string, number]> {
  return [...m].filter(([, n]) => n > 0).sort((x, y) => cmpStr(x[0], y[0]));
}

class PnCounter implements Crdt {
  readonly kind = 'pn';
  private readonly p = new Map<string, number>();
  private readonly n = new Map<string, number>();
  merge(s: State): boolean {
    const w = s as PnState;
    const a = mergeSlots(this.p, w.p);
    const b = mergeSlots(this.n, w.n);
    return a || b;
  }
  toState(): PnState {
    return { t: 'pn', p: sortedSlots(this.p), n: sortedSlots(this.n) };
  }
  digest(): string {
    return hashString(canonicalJson(this.toState() as Json));
  }
}

// -- generic -----------------------------------------------------------------------------------

/** A fresh object holding `s` (normalised on the way in). */
export function crdtFrom(s: State): Crdt {
  let c: Crdt;
  switch (s.t) {
    case 'lww':
      return new LwwRegister(s);
    case 'mv':
    case 'orset':
      c = new KernelCrdt(s.t);
      break;
    case 'pn':
      c = new PnCounter();
      break;
  }
  c.merge(s);
  return c;
}

/** Pure join of two states of one kind (normal form out). */
export function joinStates(a: State, b: State): State {
  if (a.t !== b.t) throw new ReplicaInputError(`cannot join a ${a.t} state with a ${b.t} state`);
  const c = crdtFrom(a);
  c.merge(b);
  return c.toState();
}

/** The digest of a state (what `Replica.digest` reports for it). */
export function digestOf(s: State): string {
  return crdtFrom(s).digest();
}

/** The normal form of a state. */
export function normalise(s: State): State {
  return crdtFrom(s).toState();
}

// -- causal contexts as opaque strings ----------------------------------------------------------

export function encodeContext(ctx: CausalContext): string {
  if (ctx.vv.length === 0 && ctx.cloud.length === 0) return '';
  return Buffer.from(JSON.stringify(ctx)).toString('base64url');
}

export function decodeContext(s: string): CausalContext {
  if (s === '') return { vv: [], cloud: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw new ReplicaInputError('context: not a context returned by a read (undecodable)');
  }
  const r = CausalContextSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new ReplicaInputError(
      `context: not a context returned by a read (${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'})`,
    );
  }
  return r.data;
}

// -- client-facing constructors and views (pure) ------------------------------------------------

/** A siblings-mode write: supersedes exactly the dots in `seen`; `dot` null = delete. */
export function mvWrite(seen: CausalContext, dot: [string, number] | null, value: Json): MvState {
  if (dot === null) return { t: 'mv', ctx: Context.fromWire(seen).toWire(), dots: [] };
  const ctx = Context.fromWire(seen);
  ctx.add(dot[0], dot[1]);
  return { t: 'mv', ctx: ctx.toWire(), dots: [[dot[0], dot[1], value]] };
}

function distinctValues(values: Iterable<Json>): Json[] {
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const v of values) {
    const k = canonicalJson(v);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(v);
  }
  return out;
}

export function kvViewOf(s: State | undefined): KvView {
  if (s === undefined) return { values: [], context: '' };
  if (s.t === 'lww') return { values: s.deleted ? [] : [s.value], context: '' };
  if (s.t === 'mv') {
    const n = normalise(s) as MvState;
    return { values: distinctValues(n.dots.map((d) => d[2])), context: encodeContext(n.ctx) };
  }
  throw new ReplicaInputError(`a ${s.t} state is not a kv state`);
}

/** The dots of `element` held in an OR-set state. */
export function orsetDotsOf(s: OrSetState, element: Json): Array<[string, number]> {
  const k = canonicalJson(element);
  return s.dots.filter((d) => canonicalJson(d[2]) === k).map((d) => [d[0], d[1]]);
}

export function setViewOf(s: State | undefined): Json[] {
  if (s === undefined) return [];
  if (s.t !== 'orset') throw new ReplicaInputError(`a ${s.t} state is not a set state`);
  const byKey = new Map<string, Json>();
  for (const d of s.dots) byKey.set(canonicalJson(d[2]), d[2]);
  return [...byKey.keys()].sort(cmpStr).map((k) => byKey.get(k)!);
}

export function counterViewOf(s: State | undefined): number {
  if (s === undefined) return 0;
  if (s.t !== 'pn') throw new ReplicaInputError(`a ${s.t} state is not a counter state`);
  // per-slot max is the join; sum each actor once
  const p = new Map<string, number>();
  const n = new Map<string, number>();
  mergeSlots(p, s.p);
  mergeSlots(n, s.n);
  let total = 0;
  for (const v of p.values()) total += v;
  for (const v of n.values()) total -= v;
  return total;
}
