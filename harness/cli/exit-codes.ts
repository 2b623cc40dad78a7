import type { Verdict } from '../../checker/porcupine/types.js';

/** The CLI's exit codes (DESIGN.md, "CLI and exit codes"). */
export const EXIT = {
  valid: 0,
  invalid: 1,
  unknown: 2,
  /** Bad input or usage, or the harness could not run: the message says what to fix. */
  usage: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeOf(verdict: Verdict): ExitCode {
  return verdict === true ? EXIT.valid : verdict === false ? EXIT.invalid : EXIT.unknown;
}

/**
 * A problem the user can fix (a bad flag, a missing file, a malformed history). The CLI prints
 * its message, without a stack trace, and exits with EXIT.usage.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
