import { z } from 'zod';
import { parseJson } from '../../checker/history/json.js';
import { UsageError } from '../exit-codes.js';

import { type CheckFlags, HISTORY_FORMATS } from './flags.js';

export { type CheckFlags, HISTORY_FORMATS, type HistoryFormat } from './flags.js';

/** `--initial VALUE`: a JSON value (`0`, `null`, `'"x"'`, `'[1,2]'`). */
const initialSchema = z.string().transform((s, ctx) => {
  try {
    // Integers beyond 2^53 stay exact, as in histories.
    return parseJson(s);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `not JSON: ${JSON.stringify(s)} (a string needs JSON quotes: --initial '"${s}"')`,
    });
    return z.NEVER;
  }
});

const secondsSchema = z
  .string()
  .regex(/^\s*\d+(\.\d+)?\s*$/, 'expected a positive number of seconds')
  .transform(Number)
  .refine((n) => n > 0 && Number.isFinite(n), 'expected a positive number of seconds');

/** The flags of `faultline check` as commander hands them over (all strings and booleans). */
export function checkFlagsSchema(models: readonly string[]) {
  return z.object({
    model: z
      .string()
      .refine((m) => models.includes(m), {
        message: `unknown model; known models: ${models.join(', ')}; for transactions: list-append, rw-register`,
      })
      .optional(),
    format: z.enum(HISTORY_FORMATS, {
      message: `expected one of ${HISTORY_FORMATS.join(', ')}`,
    }),
    initial: initialSchema.optional(),
    timeout: secondsSchema.optional(),
    out: z.string().min(1, 'expected a folder').optional(),
    json: z.boolean().default(false),
    perPartition: z.boolean().default(false),
    partition: z.boolean().default(true),
  });
}

const FLAG_NAMES: Record<string, string> = {
  model: '--model',
  format: '--format',
  initial: '--initial',
  timeout: '--timeout',
  out: '--out',
  json: '--json',
  perPartition: '--per-partition',
  partition: '--no-partition',
};

/** Parses the raw flags; a bad one is a UsageError naming the flag and the value given. */
export function parseCheckFlags(
  raw: Record<string, unknown>,
  models: readonly string[],
): CheckFlags {
  const r = checkFlagsSchema(models).safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const flag = FLAG_NAMES[field] ?? field;
  const given = raw[field];
  throw new UsageError(
    `${flag} ${given === undefined ? '' : `${JSON.stringify(given)}: `}${issue.message}`,
  );
}
