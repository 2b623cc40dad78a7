import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { standinRecipe } from '../../testing/standin.js';
import { createDockerBackend } from '../docker-backend.js';
import { connectDocker } from '../engine.js';
import { describeObjectsOfRun, removeRun } from '../labels.js';
import { standinImages } from './standin-image.js';

const CHILD = fileURLToPath(new URL('./child-harness.ts', import.meta.url));
const logsDir = mkdtempSync(join(tmpdir(), 'faultline-docker-clean-'));
const runs: string[] = [];
afterAll(async () => {
  try {
    if (runs.length > 0) {
      const docker = await connectDocker();
      for (const r of runs) await removeRun(docker, r);
    }
  } finally {
    rmSync(logsDir, { recursive: true, force: true });
  }
});

describe('docker clean() after a harness died', () => {
  it('removes the containers and network of a SIGKILLed harness and spares a live run', async () => {
    const docker = await connectDocker();
    const dead = `clean-dead-${process.pid}-${Date.now().toString(36)}`;
    const live = `clean-live-${process.pid}-${Date.now().toString(36)}`;
    runs.push(dead, live);
    const backend = createDockerBackend({ imageRecipes: standinImages });
    const child = execa(process.execPath, ['--import', 'tsx', CHILD, dead, logsDir], {
      reject: false,
      stdout: 'pipe',
      stderr: 'inherit',
    });
    const [, liveCluster] = await Promise.all([
      new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (c: Buffer) => {
          if (c.toString().includes('up')) resolve();
        });
        child.on('exit', () =>
          reject(new Error('the child harness exited before its cluster was up')),
        );
      }),
      backend.createCluster({
        runId: live,
        recipe: standinRecipe(),
        nodes: ['n1'],
        settings: {},
        logsDir,
        startTimeoutMs: 30_000,
      }),
    ]);
    child.kill('SIGKILL');
    await child;
    // The dead run's two nodes: a node and a network container each, and the network.
    expect(await describeObjectsOfRun(docker, dead)).toHaveLength(5);

    const { removed } = await backend.clean();
    expect(removed.some((r) => r.includes(dead))).toBe(true);
    expect(removed.some((r) => r.includes(live))).toBe(false);
    expect(await describeObjectsOfRun(docker, dead)).toEqual([]);
    expect((await describeObjectsOfRun(docker, live)).length).toBeGreaterThan(0);

    // A second clean finds nothing more; the live run still works and tears down cleanly.
    expect((await backend.clean()).removed.filter((r) => r.includes(dead))).toEqual([]);
    await liveCluster.kill('n1');
    await liveCluster.start('n1');
    await liveCluster.teardown();
    expect(await describeObjectsOfRun(docker, live)).toEqual([]);
  }, 90_000);
});
