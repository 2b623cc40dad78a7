import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timestampName } from '../harness/results-folder.js';
import { InternalError } from '../harness/runner.js';
import { EXIT } from './exit-codes.js';
import type { CliIO } from './io.js';

/**
 * A bug in faultline: one line on the terminal, the stack in a log file (the run folder's
 * error.log when a run was under way, else a file in the temp folder), exit code 4.
 */
export function reportInternalError(io: CliIO, e: unknown): number {
  let logFile: string;
  if (e instanceof InternalError) {
    logFile = e.logFile;
  } else {
    logFile = join(tmpdir(), `faultline-error-${timestampName(new Date())}-${process.pid}.log`);
    try {
      writeFileSync(logFile, `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    } catch {
      logFile = '(could not write a log file)';
    }
  }
  const message = e instanceof Error ? e.message : String(e);
  io.err(`faultline: internal error (a bug in faultline): ${message}`);
  io.err(`faultline: the stack trace is in ${logFile}; please report it`);
  return EXIT.internal;
}
