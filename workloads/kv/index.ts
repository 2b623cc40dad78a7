import { z } from 'zod';
import type { Op } from '../../core/client.js';
import type { WorkloadDefinition } from '../../core/workload.js';
import { linearizabilityChecker, statsChecker } from '../checkers.js';
import { finalReads, independentKeys, KeyLog, pickWeighted, requireClient } from '../keyed.js';

export const kvOptions = z
  .object({
    /** Keys in use at a time. */
    activeKeys: z.number().int().min(1).max(1000).default(3),
    /** Ops each key gets before the workload moves on to a fresh key. */
    opsPerKey: z.number().int().min(1).max(100_000).default(60),
    /** Relative weights of read, write and cas. */
    mix: z
      .object({ read: z.number().min(0), write: z.number().min(0), cas: z.number().min(0) })
      .default({ read: 2, write: 1, cas: 1 }),
    /** After the heal, one read of every key the run touched. */
    finalReads: z.boolean().default(true),
    /** The checker's budget, seconds (the verdict is "unknown" past it). */
    checkTimeout: z.number().positive().default(60),
  })
  .strict();

export type KvOptions = z.output<typeof kvOptions>;

/**
 * `kv`: CASPaxos read / write / cas (`/lin/:key`) on many independent keys. A few keys are in
 * use at a time; each gets at most `opsPerKey` ops and is then replaced by a fresh key (Jepsen's
 * independent keys), so every per-key history stays small for the search. Written values are
 * unique in the run (the run's op count + 1); a cas expects one of the key's recent values (or
 * null on a fresh key). Checked P-compositionally: the kv model, each key a register from null.
 */
export const kv: WorkloadDefinition<KvOptions> = {
  name: 'kv',
  description: 'read/write/cas on many independent keys, checked per key for linearizability',
  options: kvOptions as z.ZodType<KvOptions>,
  build(options, ctx) {
    const log = new KeyLog();
    const weights = [options.mix.read, options.mix.write, options.mix.cas];
    const generator = independentKeys<Op>(
      { prefix: 'k', activeKeys: options.activeKeys, opsPerKey: options.opsPerKey, log },
      (key, n, c, recent) => {
        const f = pickWeighted(c.rng.float(), weights);
        if (f === 0) return { op: { f: 'read', key } };
        const value = n + 1;
        if (f === 1) return { op: { f: 'write', key, value }, wrote: value };
        const expect = recent.length === 0 ? null : c.rng.pick(recent);
        return { op: { f: 'cas', key, value: [expect, value] }, wrote: value };
      },
    );
    return {
      generator,
      ...(options.finalReads
        ? {
            finalGenerator: finalReads(
              log,
              { spread: ctx.concurrency },
              (key): Op => ({ f: 'read', key }),
            ),
          }
        : {}),
      client: requireClient(ctx.system.clients, 'register', ctx.system.name, 'kv'),
      checkedPerKey: true,
      checkers: [linearizabilityChecker('kv', null), statsChecker],
      check: { model: 'kv', initial: null },
    };
  },
};
