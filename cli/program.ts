import { Command, CommanderError } from 'commander';
import { COMMANDS, type CommandEntry, commandsFor } from './commands/index.js';
import { EXIT, EXIT_CODES_HELP, UsageError } from './exit-codes.js';
import type { CliIO } from './io.js';
import { processIO } from './io.js';

const VERSION = '0.1.0';

/**
 * The `faultline` program with the subcommands `commands` registered (by default every one;
 * `runCli` registers only the one its arguments name).
 */
export async function createProgram(
  io: CliIO,
  setExit: (code: number) => void,
  commands: readonly CommandEntry[] = COMMANDS,
): Promise<Command> {
  const program = new Command('faultline')
    .description('Jepsen-style linearizability and fault-injection test harness')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
    });
  // Subcommands inherit exitOverride and the output settings, set above before they are added.
  const registers = await Promise.all(commands.map((c) => c.load()));
  for (const register of registers) register(program, { io, setExit });
  return program;
}

/** Runs the CLI on `argv` (as process.argv) and resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let code: number = EXIT.valid;
  try {
    const program = await createProgram(
      io,
      (c) => {
        code = c;
      },
      commandsFor(argv),
    );
    await program.parseAsync([...argv]);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with exit code 0; every other parse error is a usage error.
      return e.exitCode === 0 ? EXIT.valid : EXIT.usage;
    }
    if (e instanceof UsageError) {
      io.err(`faultline: ${e.message}`);
      return EXIT.usage;
    }
    // Loaded only on a bug: it needs the harness, which `check` has no other use for.
    const { reportInternalError } = await import('./internal-error.js');
    return reportInternalError(io, e);
  }
}
