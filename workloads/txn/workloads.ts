/**
 * `list-append` and `rw-register`: transactions (ops `{f: "txn"}`) through the system's client
 * API of the same name,
 * checked by the Elle-style transactional checker (checker/elle) for the consistency models
 * given (default strict-serializable).
 */
import { z } from 'zod';
import { CONSISTENCY_MODELS, modelName } from '../../checker/elle/models.js';
import type { WorkloadDefinition } from '../../core/workload.js';
import { statsChecker } from '../checkers.js';
import { requireClient } from '../keyed.js';
import { elleChecker } from './checker.js';
import { txnGenerator } from './generator.js';

const txnOptions = z
  .object({
    /** Keys in use at a time. */
    keys: z.number().int().min(1).max(1000).default(3),
    minTxnLength: z.number().int().min(1).max(100).default(1),
    maxTxnLength: z.number().int().min(1).max(100).default(4),
    /** Chance that a micro-op is a read. */
    readFraction: z.number().min(0).max(1).default(0.5),
    /** Txns a worker runs before moving on to fresh keys. */
    rotateAfter: z.number().int().min(1).default(32),
    /** Models the history is checked for (read-committed … strict-serializable). */
    consistencyModels: z
      .array(
        z.string().refine((m) => modelName(m) !== undefined, {
          message: `unknown model; known: ${CONSISTENCY_MODELS.join(', ')}`,
        }),
      )
      .min(1)
      .default(['strict-serializable']),
  })
  .strict()
  .refine((o) => o.minTxnLength <= o.maxTxnLength, {
    message: 'minTxnLength must not exceed maxTxnLength',
    path: ['minTxnLength'],
  });

export type TxnOptions = z.output<typeof txnOptions>;

function txnWorkload(
  name: 'list-append' | 'rw-register',
  description: string,
): WorkloadDefinition<TxnOptions> {
  return {
    name,
    description,
    options: txnOptions as z.ZodType<TxnOptions>,
    build(options, ctx) {
      return {
        generator: txnGenerator({
          write: name === 'list-append' ? 'append' : 'w',
          keys: options.keys,
          minLength: options.minTxnLength,
          maxLength: options.maxTxnLength,
          readFraction: options.readFraction,
          rotateAfter: options.rotateAfter,
        }),
        client: requireClient(ctx.system.clients, name, ctx.system.name, name),
        checkers: [elleChecker(name, options.consistencyModels), statsChecker],
        check: { model: name },
      };
    },
  };
}

export const listAppend = txnWorkload(
  'list-append',
  'transactions appending to and reading lists, checked for isolation anomalies (Elle)',
);
export const rwRegister = txnWorkload(
  'rw-register',
  'transactions writing and reading registers, checked for isolation anomalies (Elle)',
);
