import type { Gen, GenContext, GenLike, OpStep, PendingStep, Step } from '../core/generator.js';

/**
 * The generator combinators. Each returns a new immutable generator; state (counts, deadlines,
 * schedules) lives in the generator value returned with each step, never in a closure that
 * asking mutates. Randomness comes only from `ctx.rng`.
 */

export function isGen<T>(x: GenLike<T>): x is Gen<T> {
  return typeof x === 'object' && x !== null && typeof (x as Gen<T>).next === 'function';
}

export function toGen<T>(x: GenLike<T>): Gen<T> {
  return isGen(x) ? x : ops(x);
}

function op<T>(value: T, at: number, next: Gen<T>): OpStep<T> {
  return { kind: 'op', op: value, at, next };
}

function pending<T>(next: Gen<T>, wakeAt?: number): PendingStep<T> {
  return wakeAt === undefined ? { kind: 'pending', next } : { kind: 'pending', wakeAt, next };
}

/** The same step with its continuation wrapped. */
function rewrap<T>(s: OpStep<T> | PendingStep<T>, next: Gen<T>): OpStep<T> | PendingStep<T> {
  return s.kind === 'op' ? op(s.op, s.at, next) : pending(next, s.wakeAt);
}

const EMPTY: Gen<never> = { next: () => undefined };

/** A generator that is exhausted from the start. */
export function empty<T>(): Gen<T> {
  return EMPTY;
}

/** Infinite: every ask computes a fresh op with `f` (e.g. a random read or write). */
export function ops<T>(f: (ctx: GenContext) => T): Gen<T> {
  const g: Gen<T> = { next: (ctx) => op(f(ctx), ctx.time, g) };
  return g;
}

/** The given values, in order, then exhausted. */
export function just<T>(...values: T[]): Gen<T> {
  const from = (i: number): Gen<T> => ({
    next: (ctx) => (i < values.length ? op(values[i] as T, ctx.time, from(i + 1)) : undefined),
  });
  return from(0);
}

/** One op (the first of `x`), then exhausted. */
export function once<T>(x: GenLike<T>): Gen<T> {
  return limit(1, toGen(x));
}

/** At most `n` ops of `g`. */
export function limit<T>(n: number, g: GenLike<T>): Gen<T> {
  const inner = toGen(g);
  return {
    next(ctx) {
      if (n <= 0) return undefined;
      const s = inner.next(ctx);
      if (s === undefined) return undefined;
      return rewrap(s, limit(s.kind === 'op' ? n - 1 : n, s.next));
    },
  };
}

/**
 * Ops of `g` for `durationNs` from the first ask; an op scheduled at or after the deadline ends
 * the generator instead.
 */
export function timeLimit<T>(durationNs: number, g: GenLike<T>): Gen<T> {
  return deadlineGen(durationNs, toGen(g), undefined);
}

function deadlineGen<T>(durationNs: number, inner: Gen<T>, deadline: number | undefined): Gen<T> {
  return {
    next(ctx) {
      const d = deadline ?? ctx.time + durationNs;
      if (ctx.time >= d) return undefined;
      const s = inner.next(ctx);
      if (s === undefined) return undefined;
      if (s.kind === 'op') {
        return s.at >= d ? undefined : op(s.op, s.at, deadlineGen(durationNs, s.next, d));
      }
      return pending(deadlineGen(durationNs, s.next, d), Math.min(s.wakeAt ?? d, d));
    },
  };
}

/**
 * Spaces `g`'s ops by random gaps, uniform in [0, 2·meanNs), across all workers together: the
 * aggregate rate is about 1/meanNs. When the workers fall behind (slow system) the schedule does
 * not catch up in a burst: the next gap counts from when the op could actually start.
 */
export function stagger<T>(meanNs: number, g: GenLike<T>): Gen<T> {
  return paced(toGen(g), undefined, (ctx) => ctx.rng.float() * 2 * meanNs);
}

/** Ops of `g` exactly `intervalNs` apart (across all workers). */
export function delay<T>(intervalNs: number, g: GenLike<T>): Gen<T> {
  return paced(toGen(g), undefined, () => intervalNs);
}

/** About `opsPerSecond` ops of `g` per second across all workers (a stagger). */
export function rate<T>(opsPerSecond: number, g: GenLike<T>): Gen<T> {
  if (!(opsPerSecond > 0))
    throw new RangeError(`rate: ops per second must be > 0, got ${opsPerSecond}`);
  return stagger(1e9 / opsPerSecond, g);
}

function paced<T>(
  inner: Gen<T>,
  nextAt: number | undefined,
  gap: (ctx: GenContext) => number,
): Gen<T> {
  return {
    next(ctx) {
      const s = inner.next(ctx);
      if (s === undefined) return undefined;
      if (s.kind === 'pending') return pending(paced(s.next, nextAt, gap), s.wakeAt);
      const at = nextAt === undefined ? s.at : Math.max(s.at, nextAt);
      return op(s.op, at, paced(s.next, at + gap(ctx), gap));
    },
  };
}

/**
 * Each ask goes to one of `gens` chosen at random (by `weights`, default equal); exhausted ones
 * drop out; exhausted when all are.
 */
export function mix<T>(gens: readonly GenLike<T>[], weights?: readonly number[]): Gen<T> {
  const w = weights ?? gens.map(() => 1);
  if (w.length !== gens.length) throw new RangeError('mix: one weight per generator');
  if (w.some((x) => !(x >= 0))) throw new RangeError('mix: weights must be ≥ 0');
  return mixOf(gens.map(toGen), w);
}

function mixOf<T>(gens: readonly Gen<T>[], weights: readonly number[]): Gen<T> {
  return {
    next(ctx) {
      let gs = gens;
      let ws = weights;
      for (;;) {
        const total = ws.reduce((a, b) => a + b, 0);
        if (gs.length === 0 || total <= 0) return undefined;
        let x = ctx.rng.float() * total;
        let i = 0;
        while (i < gs.length - 1 && x >= (ws[i] as number)) {
          x -= ws[i] as number;
          i++;
        }
        const s = (gs[i] as Gen<T>).next(ctx);
        if (s === undefined) {
          gs = gs.filter((_, j) => j !== i);
          ws = ws.filter((_, j) => j !== i);
          continue;
        }
        const nextGens = gs.slice();
        nextGens[i] = s.next;
        return rewrap(s, mixOf(nextGens, ws));
      }
    },
  };
}

/** `gens` one after another: the next starts when the previous is exhausted. */
export function concat<T>(...gens: GenLike<T>[]): Gen<T> {
  return concatFrom(gens.map(toGen), 0);
}

function concatFrom<T>(gens: readonly Gen<T>[], i: number): Gen<T> {
  return {
    next(ctx) {
      for (let j = i; j < gens.length; j++) {
        const s = (gens[j] as Gen<T>).next(ctx);
        if (s === undefined) continue;
        const rest = gens.slice();
        rest[j] = s.next;
        return rewrap(s, concatFrom(rest, j));
      }
      return undefined;
    },
  };
}

/** Waits until no other worker has an op in flight, then behaves as `g`. */
export function synchronize<T>(g: GenLike<T>): Gen<T> {
  const inner = toGen(g);
  const self: Gen<T> = {
    next: (ctx) => (ctx.busy > 0 ? pending(self) : inner.next(ctx)),
  };
  return self;
}

/**
 * Phases: each generator runs to exhaustion, then every worker's op in flight completes, then
 * the next phase starts (a barrier between phases, as Jepsen's `phases`).
 */
export function phases<T>(...gens: GenLike<T>[]): Gen<T> {
  return concat(...gens.map((g, i) => (i === 0 ? toGen(g) : synchronize(g))));
}

/** No ops for `durationNs` from the first ask, then exhausted (use inside `concat`/`phases`). */
export function sleep<T = never>(durationNs: number): Gen<T> {
  const until = (end: number | undefined): Gen<T> => ({
    next(ctx) {
      const e = end ?? ctx.time + durationNs;
      return ctx.time >= e ? undefined : pending(until(e), e);
    },
  });
  return until(undefined);
}

/** `g` run to exhaustion, then started over from its initial state; `times` rounds (default ∞). */
export function cycle<T>(g: GenLike<T>, times = Number.POSITIVE_INFINITY): Gen<T> {
  const initial = toGen(g);
  return cycleFrom(initial, initial, times);
}

function cycleFrom<T>(initial: Gen<T>, current: Gen<T>, rounds: number): Gen<T> {
  return {
    next(ctx) {
      if (rounds <= 0) return undefined;
      let cur = current;
      let left = rounds;
      let fresh = false;
      for (;;) {
        const s = cur.next(ctx);
        if (s !== undefined) return rewrap(s, cycleFrom(initial, s.next, left));
        left--;
        // An initial state that is exhausted at once would loop forever.
        if (left <= 0 || fresh) return undefined;
        cur = initial;
        fresh = true;
      }
    },
  };
}

/**
 * The first op of `g`, emitted again and again (`times` in all, default ∞), each time asking a
 * fresh `g` (so a function-built op is computed anew).
 */
export function repeat<T>(g: GenLike<T>, times = Number.POSITIVE_INFINITY): Gen<T> {
  const initial = toGen(g);
  return repeatFrom(initial, initial, times);
}

function repeatFrom<T>(initial: Gen<T>, current: Gen<T>, times: number): Gen<T> {
  return {
    next(ctx) {
      if (times <= 0) return undefined;
      const s = current.next(ctx);
      if (s === undefined) return undefined;
      if (s.kind === 'pending') return pending(repeatFrom(initial, s.next, times), s.wakeAt);
      return op(s.op, s.at, repeatFrom(initial, initial, times - 1));
    },
  };
}

const DONE: unique symbol = Symbol('done');
type Slot<T> = Gen<T> | typeof DONE | undefined;

/**
 * Per worker: worker t asks its own generator `f(t)` (built on its first ask). A worker whose own
 * generator is exhausted waits; the whole is exhausted once every worker's is.
 */
export function each<T>(f: (thread: number) => GenLike<T>): Gen<T> {
  return eachOf(f, [], 0);
}

function eachOf<T>(
  f: (thread: number) => GenLike<T>,
  slots: readonly Slot<T>[],
  done: number,
): Gen<T> {
  const self: Gen<T> = {
    next(ctx) {
      if (done >= ctx.threads) return undefined;
      const t = ctx.thread;
      const slot = slots[t];
      if (slot === DONE) return pending(self);
      const s = (slot ?? toGen(f(t))).next(ctx);
      const nextSlots = slots.slice();
      if (s === undefined) {
        nextSlots[t] = DONE;
        return done + 1 >= ctx.threads ? undefined : pending(eachOf(f, nextSlots, done + 1));
      }
      nextSlots[t] = s.next;
      return rewrap(s, eachOf(f, nextSlots, done));
    },
  };
  return self;
}

/** Only workers for which `pred(thread)` holds get `g`'s ops; the others wait. */
export function onThreads<T>(pred: (thread: number) => boolean, g: GenLike<T>): Gen<T> {
  const inner = toGen(g);
  const self: Gen<T> = {
    next(ctx) {
      if (!pred(ctx.thread)) return pending(self);
      const s = inner.next(ctx);
      return s === undefined ? undefined : rewrap(s, onThreads(pred, s.next));
    },
  };
  return self;
}

/** `g`'s ops transformed by `f`. */
export function map<T, U>(f: (op: T, ctx: GenContext) => U, g: GenLike<T>): Gen<U> {
  const inner = toGen(g);
  return {
    next(ctx): Step<U> {
      const s = inner.next(ctx);
      if (s === undefined) return undefined;
      if (s.kind === 'pending') return pending(map(f, s.next), s.wakeAt);
      return op(f(s.op, ctx), s.at, map(f, s.next));
    },
  };
}

/** Only `g`'s ops satisfying `pred` (the others are skipped). */
export function filter<T>(pred: (op: T) => boolean, g: GenLike<T>): Gen<T> {
  const inner = toGen(g);
  return {
    next(ctx) {
      let cur = inner;
      for (;;) {
        const s = cur.next(ctx);
        if (s === undefined) return undefined;
        if (s.kind === 'pending' || pred(s.op)) return rewrap(s, filter(pred, s.next));
        cur = s.next;
      }
    },
  };
}
