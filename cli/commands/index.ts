import type { RegisterCommand } from '../command.js';

/**
 * The subcommands, each loaded only when it is needed: `faultline check` then loads the checker
 * and nothing of the harness, backends or workloads, which take most of the start-up time.
 */
export interface CommandEntry {
  name: string;
  load: () => Promise<RegisterCommand>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'run', load: async () => (await import('../run.js')).registerRun },
  { name: 'check', load: async () => (await import('./check.js')).registerCheck },
  { name: 'demo', load: async () => (await import('../demo.js')).registerDemo },
  { name: 'clean', load: async () => (await import('../clean.js')).registerClean },
  { name: 'serve', load: async () => (await import('../serve.js')).registerServe },
];

/**
 * The commands to register for `argv` (as process.argv): only the one named when the first
 * argument names one; every one otherwise (the program's own help, an unknown command, a global
 * option), so that help and errors list them all.
 */
export function commandsFor(argv: readonly string[]): readonly CommandEntry[] {
  const first = argv[2];
  const named = COMMANDS.find((c) => c.name === first);
  return named === undefined ? COMMANDS : [named];
}
