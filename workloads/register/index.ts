import { z } from 'zod';
import type { Op } from '../../core/client.js';
import type { Gen } from '../../core/generator.js';
import type { WorkloadDefinition } from '../../core/workload.js';
import { each, empty, just } from '../../generators/index.js';
import { linearizabilityChecker, statsChecker } from '../checkers.js';
import { pickWeighted, requireClient } from '../keyed.js';

export const registerOptions = z
  .object({
    /** Keys the ops spread over (each key is checked independently). */
    keys: z.number().int().min(1).max(1000).default(3),
    /** Relative weights of read, write and cas. */
    mix: z
      .object({ read: z.number().min(0), write: z.number().min(0), cas: z.number().min(0) })
      .default({ read: 2, write: 1, cas: 1 }),
    /** The checker's budget, seconds (the verdict is "unknown" past it). */
    checkTimeout: z.number().positive().default(60),
  })
  .strict();

export type RegisterOptions = z.output<typeof registerOptions>;

/**
 * `register`: read / write / cas through the system's `register` client, on a few keys. Write (and cas target)
 * values are unique across the run: worker t's i-th value is i·threads + t + 1, so a read
 * names exactly the write it saw. A cas expects a recent value (one of the last few rounds of
 * values, across workers) so that a fair share succeeds. Checked for linearizability with the
 * kv model (each key a register, checked independently), initial value null.
 */
export const register: WorkloadDefinition<RegisterOptions> = {
  name: 'register',
  description: 'read/write/cas on a few keys, checked for linearizability (kv model)',
  options: registerOptions as z.ZodType<RegisterOptions>,
  build(options, ctx) {
    const keys = Array.from({ length: options.keys }, (_, i) => `r${i}`);
    const threads = ctx.concurrency;
    const perThread = (t: number): Gen<Op> => {
      const from = (i: number): Gen<Op> => ({
        next(c) {
          const value = (n: number) => n * threads + t + 1;
          const key = c.rng.pick(keys);
          const weights = [options.mix.read, options.mix.write, options.mix.cas];
          const f = pickWeighted(c.rng.float(), weights);
          if (f === 0) return { kind: 'op', op: { f: 'read', key }, at: c.time, next: from(i) };
          if (f === 1) {
            return {
              kind: 'op',
              op: { f: 'write', key, value: value(i) },
              at: c.time,
              next: from(i + 1),
            };
          }
          // A value some worker wrote in the last two rounds (or none yet: null).
          const round = i - c.rng.int(0, 2);
          const expect = round < 0 ? null : round * threads + c.rng.int(1, threads);
          return {
            kind: 'op',
            op: { f: 'cas', key, value: [expect, value(i)] },
            at: c.time,
            next: from(i + 1),
          };
        },
      });
      return from(0);
    };
    // Final reads: the first workers (one per node) read every key once.
    const finalGenerator = each((t) =>
      t < ctx.nodes.length ? just(...keys.map((key): Op => ({ f: 'read', key }))) : empty<Op>(),
    );
    return {
      generator: each(perThread),
      finalGenerator,
      client: requireClient(ctx.system.clients, 'register', ctx.system.name, 'register'),
      checkedPerKey: true,
      checkers: [linearizabilityChecker('kv', null), statsChecker],
      check: { model: 'kv', initial: null },
    };
  },
};
