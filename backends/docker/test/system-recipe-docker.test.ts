import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SystemRecipe } from '../../../core/cluster.js';
import { STANDIN_SCRIPT, StandinClient, standinRecipe } from '../../testing/standin.js';
import { createDockerBackend } from '../docker-backend.js';

const logs = mkdtempSync(join(tmpdir(), 'faultline-system-recipe-'));
afterAll(() => rmSync(logs, { recursive: true, force: true }));

describe('docker backend: the image and the command come from the system definition', () => {
  it('builds the image from recipe.docker and starts nodes with docker.launch as given', async () => {
    const standin = standinRecipe({ command: '/no/such/node/on/the/host' });
    // The local launch names a command the image does not have: only docker.launch can start it.
    const recipe: SystemRecipe = {
      ...standin,
      name: 'standin-own-recipe',
      docker: {
        image: { files: [{ from: dirname(STANDIN_SCRIPT), to: '/srv/standin' }] },
        launch: (ctx) => {
          const local = standin.launch(ctx);
          return {
            command: 'node',
            args: [`/srv/standin/${basename(STANDIN_SCRIPT)}`, ...local.args.slice(1)],
            env: {},
          };
        },
      },
    };
    const cluster = await createDockerBackend().createCluster({
      runId: `sysrecipe-${Date.now().toString(36)}`,
      recipe,
      nodes: ['n1'],
      settings: {},
      logsDir: logs,
      startTimeoutMs: 30_000,
    });
    try {
      const client = new StandinClient(cluster.clientAddress('n1'));
      expect((await client.health()).id).toBe('n1');
      await client.writeFile('f', 'written in the container');
      expect(await client.readFile('f')).toBe('written in the container');
    } finally {
      await cluster.teardown();
    }
  }, 120_000);
});
