import { z } from 'zod';
import { processSchema } from './history/event.js';

/**
 * `results.json`: a checked history's verdict and evidence. Written by `faultline check` (and by
 * the runner after a run); re-checking a results folder reproduces it (times aside).
 */
export const RESULTS_FILE = 'results.json';
export const RESULTS_VERSION = 1;

export const verdictSchema = z.union([z.literal(true), z.literal(false), z.literal('unknown')]);

/** An op the search could not place next after the longest linearizable prefix. */
export const stuckOpSchema = z.object({
  /** History index of the op's invoke. */
  index: z.number().int().nonnegative(),
  process: processSchema,
  description: z.string(),
});

export const partitionEvidenceSchema = z.object({
  /** Ops in the longest linearizable prefix, out of `operations`. */
  linearized: z.number().int().nonnegative(),
  /** The model state after that prefix. */
  stateAfter: z.string(),
  stuck: z.array(stuckOpSchema),
  /** How many distinct longest prefixes the search found. */
  longestPrefixes: z.number().int().nonnegative(),
});

export const partitionResultSchema = z.object({
  /** The partition key's name (one per key: 1 and "1" differ); "" when searched as one. */
  key: z.string(),
  /** Keys searched together because a process's order ties them (the first is `key`). */
  keys: z.array(z.string()).optional(),
  valid: verdictSchema,
  /** Why the verdict is unknown (timeout, memory, cancelled). */
  reason: z.string().optional(),
  operations: z.number().int().nonnegative(),
  elapsedMs: z.number().nonnegative(),
  evidence: partitionEvidenceSchema.optional(),
});

export const linearizabilityResultSchema = z.object({
  checker: z.literal('linearizability'),
  valid: verdictSchema,
  /** Why the verdict is unknown when no partition says, in words (nothing to check). */
  reason: z.string().optional(),
  model: z.string(),
  /** The model's initial value, when one was given. */
  initial: z.unknown().optional(),
  /** Searched per partition (key) rather than as one history. */
  partitioned: z.boolean(),
  /** Every partition decided, rather than stopping at the first illegal one. */
  decideAll: z.boolean(),
  timeoutMs: z.number().positive().optional(),
  /** Ops searched (after dropping fail ops and indeterminate reads). */
  operations: z.number().int().nonnegative(),
  partitions: z.array(partitionResultSchema),
  elapsedMs: z.number().nonnegative(),
});

/** Any checker's result: at least a verdict. Each checker kind adds its own fields. */
export const checkerResultSchema = z.object({ valid: verdictSchema }).loose();

export const resultsSchema = z.object({
  faultline: z.literal(RESULTS_VERSION),
  /** The history checked: relative to the results folder when inside it, else as given. */
  history: z.string(),
  format: z.string(),
  /** The verdict: the conjunction of the checkers' (false beats unknown beats true). */
  valid: verdictSchema,
  /** Why the verdict is unknown, in words, when a checker said. */
  reason: z.string().optional(),
  model: z.string(),
  /** Client operations in the history. */
  ops: z.number().int().nonnegative(),
  partitions: z.number().int().nonnegative(),
  elapsedMs: z.number().nonnegative(),
  warnings: z.array(z.string()),
  /**
   * Written for runs (absent for a plain history check): how far the run got, the verdict in
   * words and why it is not valid. `valid` then carries the same verdict.
   */
  run: z
    .object({
      status: z.enum(['complete', 'aborted', 'crashed', 'failed-to-start']),
      verdict: z.enum(['valid', 'invalid', 'unknown']),
      reasons: z.array(z.string()),
    })
    .optional(),
  checkers: z
    .object({ linearizability: linearizabilityResultSchema.optional() })
    .catchall(checkerResultSchema),
});

export type Results = z.infer<typeof resultsSchema>;
export type LinearizabilityResults = z.infer<typeof linearizabilityResultSchema>;
export type PartitionResults = z.infer<typeof partitionResultSchema>;
