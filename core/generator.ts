import type { Rng } from './random.js';

/**
 * What a generator is told when a worker asks it for an operation. Generators are immutable
 * values: asking returns the operation and the generator to ask next time, so a generator can
 * be shared, restarted (`cycle`) or simulated without side effects. The only effect is the draw
 * from `rng`, which is the asking worker's own seeded stream: the ops a worker is given depend
 * on the seed and on the order of asks, never on the wall clock.
 */
export interface GenContext {
  /** Nanoseconds since the run (or phase) started. */
  time: number;
  /** The worker asking (0..threads-1 for clients); stable when its process id is retired. */
  thread: number;
  /** How many workers share this generator. */
  threads: number;
  /** Workers other than the asker with an operation in flight (what `synchronize` waits on). */
  busy: number;
  /** The asking worker's random stream. */
  rng: Rng;
}

/** An operation to perform at `at` (ns, ≥ the asking time), and the generator after it. */
export interface OpStep<T> {
  kind: 'op';
  op: T;
  at: number;
  next: Gen<T>;
}

/**
 * Nothing for this worker now. Ask again at `wakeAt` (ns) when given, or after another worker's
 * operation completes (or a short poll interval) when not.
 */
export interface PendingStep<T> {
  kind: 'pending';
  wakeAt?: number;
  next: Gen<T>;
}

/** `undefined`: the generator is exhausted, for every worker. */
export type Step<T> = OpStep<T> | PendingStep<T> | undefined;

export interface Gen<T> {
  next(ctx: GenContext): Step<T>;
}

/** An op value, a function of the context computing one, or a generator. */
export type GenLike<T> = Gen<T> | ((ctx: GenContext) => T);
