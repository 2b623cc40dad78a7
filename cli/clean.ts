import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { BACKENDS } from '../api/registries.js';
import { INVENTORY_ENV } from '../backends/ssh/from-env.js';
import { settleRunStatus } from '../harness/runner.js';
import type { RegisterCommand } from './command.js';
import { EXIT } from './exit-codes.js';

/** Run folders under a results root: `<out>/<test name>/<timestamp>/`. */
function runFolders(out: string): string[] {
  const dirs = (d: string) => {
    try {
      return readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => join(d, e.name));
    } catch {
      return [];
    }
  };
  return dirs(out).flatMap(dirs);
}

/**
 * `faultline clean`: every backend removes what crashed runs left behind, and every run folder
 * under the results root still marked `running` whose process is gone is marked `crashed`.
 */
export const registerClean: RegisterCommand = (program: Command, { io, setExit }) => {
  program
    .command('clean')
    .description(
      'remove what crashed runs left behind (node processes, proxies, data dirs, containers) and mark their results folders crashed',
    )
    .option('--out <dir>', 'results root whose crashed runs to mark (default results)', 'results')
    .option('--inventory <file>', 'ssh backend: also clean the hosts of this inventory')
    .action(async (flags: { out: string; inventory?: string }) => {
      if (flags.inventory !== undefined) process.env[INVENTORY_ENV] = resolve(flags.inventory);
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
      const crashed = runFolders(flags.out).filter((dir) => {
        try {
          return settleRunStatus(dir)?.crashFound === true;
        } catch {
          return false;
        }
      });
      for (const dir of crashed) io.out(`results: marked ${dir} crashed (its run never finished)`);
      setExit(failed ? EXIT.usage : EXIT.valid);
    });
};
