import { z } from 'zod';
import type { QuorumOp } from '../../core/client.js';
import type { WorkloadDefinition } from '../../core/workload.js';
import { statsChecker } from '../checkers.js';
import { convergenceChecker, counterChecker } from '../eventual-checkers.js';
import { eventualFinalPhase, finalPhaseOptions } from '../final-phase.js';
import { independentKeys, KeyLog, requireClient } from '../keyed.js';
import { quorumOptions, withQuorum } from '../quorum.js';

export const counterOptions = z
  .object({
    /** Counter keys (all in use for the whole run). */
    keys: z.number().int().min(1).max(1000).default(2),
    /** Share of ops that are reads. */
    reads: z.number().min(0).max(1).default(0.25),
    /** Share of increments that are negative (decrements). */
    negative: z.number().min(0).max(1).default(0),
    /** Largest |delta| of one increment (deltas are uniform in 1..maxDelta). */
    maxDelta: z.number().int().min(1).max(1_000_000).default(5),
    ...quorumOptions,
    ...finalPhaseOptions,
  })
  .strict();

export type CounterOptions = z.output<typeof counterOptions>;

/**
 * `counter`: PN-counter increments (mostly positive; `negative` of them decrements) and reads on
 * a few keys. Checked with the counter bounds (every replica's final value within [sum of
 * acknowledged, sum of acknowledged + indeterminate], equal on all replicas) and convergence.
 */
export const counter: WorkloadDefinition<CounterOptions> = {
  name: 'counter',
  description: 'PN-counter increments/decrements and reads: final value bounds and convergence',
  options: counterOptions as z.ZodType<CounterOptions>,
  build(options, ctx) {
    const log = new KeyLog();
    const generator = independentKeys<QuorumOp>(
      { prefix: 'c', activeKeys: options.keys, opsPerKey: Number.POSITIVE_INFINITY, log },
      (key, _n, c) => {
        if (c.rng.chance(options.reads)) return { op: withQuorum({ f: 'read', key }, options) };
        const size = c.rng.int(1, options.maxDelta);
        const delta = c.rng.chance(options.negative) ? -size : size;
        return { op: withQuorum({ f: 'add', key, value: delta }, options) };
      },
    );
    const system = ctx.system;
    return {
      generator,
      client: requireClient(system.clients, 'counter', system.name, 'counter'),
      checkers: [counterChecker, convergenceChecker('counter'), statsChecker],
      ...eventualFinalPhase(options, ctx, log, {
        workload: 'counter',
        replicaClient: 'replica-counter',
      }),
    };
  },
};
