import type { Command } from 'commander';
import type { CliIO } from './io.js';

/**
 * A subcommand adds itself to the program. It reports its exit code through `setExit` rather
 * than exiting, so the program decides how to end. Subcommands are one module each, listed in
 * commands/index.ts.
 */
export type RegisterCommand = (
  program: Command,
  context: { io: CliIO; setExit: (code: number) => void },
) => void;
