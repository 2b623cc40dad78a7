import type { Command } from 'commander';
import { BACKENDS } from '../defaults.js';
import type { RegisterCommand } from './commands/index.js';
import { EXIT } from './exit-codes.js';

/** `faultline clean`: every backend removes what crashed runs left behind. */
export const registerClean: RegisterCommand = (program: Command, { io, setExit }) => {
  program
    .command('clean')
    .description('remove what crashed runs left behind (node processes, proxies, data dirs)')
    .action(async () => {
      let failed = false;
      for (const [name, make] of BACKENDS) {
        try {
          const { removed } = await make().clean();
          io.out(
            `${name}: ${removed.length === 0 ? 'nothing to remove' : `removed ${removed.join(', ')}`}`,
          );
        } catch (e) {
          failed = true;
          io.err(`${name}: clean failed: ${(e as Error).message}`);
        }
      }
      setExit(failed ? EXIT.usage : EXIT.valid);
    });
};
