import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import type { RegisterCommand } from './command.js';
import { EXIT } from './exit-codes.js';

const portSchema = z.coerce.number().int().min(0).max(65535);

/**
 * `faultline serve [DIR]`: the results folder in a browser, read-only, on 127.0.0.1 unless
 * `--host` says otherwise. Runs until Ctrl-C. The server is loaded only for this command.
 */
export const registerServe: RegisterCommand = (program: Command, { io, setExit }) => {
  program
    .command('serve')
    .description(
      'browse a results folder: runs, trends, timelines, plots and node logs (read-only)',
    )
    .argument('[dir]', 'results folder', 'results')
    .option('--host <host>', 'address to listen on (default 127.0.0.1: this machine only)')
    .option('--port <port>', 'port (0: any free port)', '8080')
    .action(async (dir: string, flags: { host?: string; port: string }) => {
      const port = portSchema.safeParse(flags.port);
      if (!port.success) {
        io.err(`faultline serve: --port: not a port number: ${JSON.stringify(flags.port)}`);
        setExit(EXIT.usage);
        return;
      }
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        io.err(
          `faultline serve: ${dir}: no such folder (run \`faultline run --out ${dir}\` first)`,
        );
        setExit(EXIT.usage);
        return;
      }
      const { serveResults } = await import('../harness/serve/server.js');
      let running: Awaited<ReturnType<typeof serveResults>>;
      try {
        running = await serveResults({
          root: dir,
          port: port.data,
          ...(flags.host !== undefined ? { host: flags.host } : {}),
        });
      } catch (e) {
        io.err(`faultline serve: cannot listen: ${(e as Error).message}`);
        setExit(EXIT.usage);
        return;
      }
      io.out(`serving ${dir} at ${running.url} (read-only; Ctrl-C to stop)`);
      if (flags.host !== undefined && flags.host !== '127.0.0.1' && flags.host !== 'localhost') {
        io.err(
          `warning: listening on ${flags.host}: anyone who can reach it can read these results`,
        );
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await running.close();
      setExit(EXIT.valid);
    });
};
