import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ClientOp } from './history/client-op.js';
import { processSchema } from './history/event.js';
import { parseJson, stringifyJson } from './history/json.js';
import type { PartitionInfo, Verdict } from './porcupine/types.js';

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

/** A run's verdict from its checkers': false beats unknown, unknown beats true. */
export function combineVerdicts(verdicts: Iterable<Verdict>): Verdict {
  let out: Verdict = true;
  for (const v of verdicts) {
    if (v === false) return false;
    if (v === 'unknown') out = 'unknown';
  }
  return out;
}

/** What `results.json` needs of a `checkLinearizability` result. */
export interface LinearizabilityOutcome {
  valid: Verdict;
  reason?: string;
  model: string;
  operations: number;
  elapsedMs: number;
  partitions: readonly {
    key: string;
    keys?: string[];
    valid: Verdict;
    reason?: string;
    operations: number;
    elapsedMs: number;
    info?: PartitionInfo<unknown, unknown>;
  }[];
}

function evidence(
  info: PartitionInfo<unknown, unknown>,
  ops: readonly ClientOp[],
): z.infer<typeof partitionEvidenceSchema> {
  const longest = info.longest[0] ?? [];
  return {
    linearized: longest.length,
    stateAfter: longest.length > 0 ? longest[longest.length - 1]!.state : info.initialState,
    stuck: info.stuck.map((s) => {
      const id = info.operations[s]?.id;
      const op = id !== undefined ? ops[id] : undefined;
      return {
        index: op?.invoke.index ?? 0,
        process: op?.process ?? info.operations[s]?.clientId ?? 0,
        description: info.descriptions[s] ?? '?',
      };
    }),
    longestPrefixes: info.longest.length,
  };
}

export interface LinearizabilityResultsInput {
  history: string;
  format: string;
  warnings: readonly string[];
  ops: readonly ClientOp[];
  outcome: LinearizabilityOutcome;
  initial?: unknown;
  partitioned: boolean;
  decideAll: boolean;
  timeoutMs?: number;
}

/** Builds `results.json` for a linearizability check; evidence is kept for non-valid partitions. */
export function linearizabilityResults(input: LinearizabilityResultsInput): Results {
  const { outcome, ops } = input;
  const lin: LinearizabilityResults = {
    checker: 'linearizability',
    valid: outcome.valid,
    ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
    model: outcome.model,
    ...('initial' in input ? { initial: input.initial } : {}),
    partitioned: input.partitioned,
    decideAll: input.decideAll,
    ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
    operations: outcome.operations,
    partitions: outcome.partitions.map((p) => ({
      key: p.key,
      ...(p.keys !== undefined ? { keys: p.keys } : {}),
      valid: p.valid,
      ...(p.reason !== undefined ? { reason: p.reason } : {}),
      operations: p.operations,
      elapsedMs: p.elapsedMs,
      ...(p.valid !== true && p.info ? { evidence: evidence(p.info, ops) } : {}),
    })),
    elapsedMs: outcome.elapsedMs,
  };
  return {
    faultline: RESULTS_VERSION,
    history: input.history,
    format: input.format,
    valid: combineVerdicts([lin.valid]),
    ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
    model: outcome.model,
    ops: ops.length,
    partitions: outcome.partitions.length,
    elapsedMs: outcome.elapsedMs,
    warnings: [...input.warnings],
    checkers: { linearizability: lin },
  };
}

/** Writes `dir/results.json` (validated; written to a temp file then renamed). Returns its path. */
export async function writeResults(dir: string, results: Results): Promise<string> {
  const checked = resultsSchema.parse(results);
  await mkdir(dir, { recursive: true });
  const file = join(dir, RESULTS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  // stringifyJson: an initial value or a checker's finding may hold a bigint.
  await writeFile(tmp, `${stringifyJson(checked, 2)}\n`);
  await rename(tmp, file);
  return file;
}

/** Reads and validates a `results.json`; errors name the file and the field. */
export async function readResults(file: string): Promise<Results> {
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = parseJson(text);
  } catch (e) {
    throw new Error(`${file}: not JSON: ${(e as Error).message}`);
  }
  const r = resultsSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`${file}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}
