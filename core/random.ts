import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

type Generator = ReturnType<typeof xoroshiro128plus>;

/**
 * The run's one source of randomness. Every random choice (ops, values, keys, fault kinds,
 * targets, durations, timing) comes from an Rng derived from the run's seed.
 *
 * `fork(label)` derives an independent stream per purpose, keyed by the label, so adding a
 * random choice to one purpose (say, the op mix) does not shift another (the fault schedule):
 * a seed keeps reproducing the same faults as the workload code evolves.
 */
export class Rng {
  private readonly gen: Generator;

  constructor(
    readonly seed: number,
    private readonly path = '',
  ) {
    this.gen = xoroshiro128plus(mixSeed(seed, path));
  }

  /** An independent stream for one purpose ("ops", "nemesis", "process-3", ...). */
  fork(label: string): Rng {
    return new Rng(this.seed, this.path === '' ? label : `${this.path}/${label}`);
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return uniformInt(this.gen, min, max);
  }

  /** A float in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: no items to pick from');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A new array with the items in random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = out[i] as T;
      out[i] = out[j] as T;
      out[j] = t;
    }
    return out;
  }

  /** A float in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.float();
  }
}

/** A 32-bit seed from the run seed and a purpose path (FNV-1a over the path, mixed with the seed). */
function mixSeed(seed: number, path: string): number {
  let h = 0x811c9dc5 ^ (seed | 0);
  h = Math.imul(h ^ Math.floor(seed / 2 ** 32), 0x01000193);
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
