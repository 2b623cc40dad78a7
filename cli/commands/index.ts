import { registerClean } from '../clean.js';
import type { RegisterCommand } from '../command.js';
import { registerDemo } from '../demo.js';
import { registerRun } from '../run.js';
import { registerCheck } from './check.js';

export const COMMANDS: readonly RegisterCommand[] = [
  registerRun,
  registerCheck,
  registerDemo,
  registerClean,
];
