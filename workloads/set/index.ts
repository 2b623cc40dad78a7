import { z } from 'zod';
import type { QuorumOp } from '../../core/client.js';
import type { WorkloadDefinition } from '../../core/workload.js';
import { statsChecker } from '../checkers.js';
import { convergenceChecker, setFullChecker } from '../eventual-checkers.js';
import { eventualFinalPhase, finalPhaseOptions } from '../final-phase.js';
import { independentKeys, KeyLog, pickWeighted, requireClient } from '../keyed.js';
import { quorumOptions, withQuorum } from '../quorum.js';

export const setOptions = z
  .object({
    /** Set keys in use at a time. */
    activeKeys: z.number().int().min(1).max(1000).default(2),
    /** Ops each set key gets before the workload moves on to a fresh key (bounds read sizes). */
    opsPerKey: z.number().int().min(1).max(1_000_000).default(300),
    /** Relative weights of add, remove and read (removes are off by default). */
    mix: z
      .object({ add: z.number().min(0), remove: z.number().min(0), read: z.number().min(0) })
      .default({ add: 3, remove: 0, read: 1 }),
    ...quorumOptions,
    ...finalPhaseOptions,
  })
  .strict();

export type SetOptions = z.output<typeof setOptions>;

/**
 * `set`: OR-set adds of unique elements (the run's op count + 1), optional removes of one of the
 * key's recently added elements, and reads, on independent set keys (each key gets at most
 * `opsPerKey` ops, so reads stay small). Checked with the set-full analysis (lost, unexpected,
 * recovered, stale reads, time to stable visibility) and convergence of the final replica sets.
 */
export const set: WorkloadDefinition<SetOptions> = {
  name: 'set',
  description: 'OR-set adds (optional removes) and reads: set-full analysis and convergence',
  options: setOptions as z.ZodType<SetOptions>,
  build(options, ctx) {
    const log = new KeyLog();
    const weights = [options.mix.add, options.mix.remove, options.mix.read];
    const generator = independentKeys<QuorumOp>(
      { prefix: 's', activeKeys: options.activeKeys, opsPerKey: options.opsPerKey, log },
      (key, n, c, recent) => {
        let f = pickWeighted(c.rng.float(), weights);
        if (f === 1 && recent.length === 0) f = 0; // nothing added yet: add instead
        if (f === 0)
          return { op: withQuorum({ f: 'add', key, value: n + 1 }, options), wrote: n + 1 };
        if (f === 1)
          return { op: withQuorum({ f: 'remove', key, value: c.rng.pick(recent) }, options) };
        return { op: withQuorum({ f: 'read', key }, options) };
      },
    );
    const system = ctx.system;
    return {
      generator,
      client: requireClient(system.clients, 'set', system.name, 'set'),
      checkers: [setFullChecker, convergenceChecker('set'), statsChecker],
      ...eventualFinalPhase(options, ctx, log, { workload: 'set', replicaClient: 'replica-set' }),
    };
  },
};
