import type { Verdict } from '../checker/porcupine/types.js';

/** The CLI's exit codes (DESIGN.md, "CLI and exit codes"). */
export const EXIT = {
  valid: 0,
  invalid: 1,
  unknown: 2,
  /** Bad input or config, or the backend is unavailable: the message says what to fix. */
  usage: 3,
  /** A bug in faultline: the stack trace is in a log file the message names. */
  internal: 4,
} as const;

/** The exit codes in words, for --help and the README. */
export const EXIT_CODES_HELP =
  'exit codes: 0 valid; 1 anomaly found; 2 unknown or incomplete (run stopped early, faults not ' +
  'carried out, too little evidence, a checker out of budget); 3 bad input or config, or the ' +
  'backend unavailable; 4 a bug in faultline (stack in the log file named)';

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
