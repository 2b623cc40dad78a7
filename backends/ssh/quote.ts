/**
 * The one way a remote shell command is built from values: every argument goes through
 * `shQuote`, so a value can never end an argument, start a new command or expand anything.
 */

/** Characters a word may carry without quotes (nothing the shell treats specially). */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `value` as one shell word: unchanged when plain, else single-quoted (`'` as `'\''`). */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  if (PLAIN.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A command line running `argv` as given: each element quoted. */
export function shCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('an empty command');
  return argv.map(shQuote).join(' ');
}
