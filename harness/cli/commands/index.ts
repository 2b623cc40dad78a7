import type { Command } from 'commander';
import { registerClean } from '../clean.js';
import { registerDemo } from '../demo.js';
import type { CliIO } from '../io.js';
import { registerRun } from '../run.js';
import { registerCheck } from './check.js';

/**
 * A subcommand adds itself to the program. It reports its exit code through `setExit` rather
 * than exiting, so the program decides how to end. New subcommands (run, demo, clean, serve)
 * are one module each, listed here.
 */
export type RegisterCommand = (
  program: Command,
  context: { io: CliIO; setExit: (code: number) => void },
) => void;

export const COMMANDS: readonly RegisterCommand[] = [
  registerRun,
  registerCheck,
  registerDemo,
  registerClean,
];
