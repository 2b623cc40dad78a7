import { afterEach, describe, expect, it } from 'vitest';
import { standinRecipe } from '../testing/standin.js';
import { createDockerBackend, DOCKER_CAPABILITIES, mapLaunch } from './docker-backend.js';
import { DockerUnavailableError } from './engine.js';

const saved = process.env.DOCKER_HOST;
afterEach(() => {
  if (saved === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = saved;
});

describe('the docker backend without an engine', () => {
  it('fails cluster creation with a message saying how to get an engine', async () => {
    process.env.DOCKER_HOST = 'unix:///nonexistent/faultline-test.sock';
    const backend = createDockerBackend();
    const err = await backend
      .createCluster({
        runId: 'no-engine',
        recipe: standinRecipe(),
        nodes: ['n1'],
        settings: {},
        logsDir: '/nonexistent',
        startTimeoutMs: 1000,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(DockerUnavailableError);
    expect(String(err)).toMatch(/nonexistent\/faultline-test\.sock/);
    expect(String(err)).toMatch(/ensure-docker\.sh/);
    // Nothing of ours can run without an engine: clean has nothing to do and does not fail.
    expect(await backend.clean()).toEqual({ removed: [] });
  });

  it('declares every fault of the backend interface', () => {
    expect([...DOCKER_CAPABILITIES].sort()).toEqual(
      ['clock', 'kill', 'link-bandwidth', 'link-delay', 'link-loss', 'partition', 'pause'].sort(),
    );
  });
});

describe('launches mapped into the image', () => {
  it('replace the host node and the recipe files by their image paths, nothing else', () => {
    const recipe = { files: [{ from: '/src/app/dist', to: '/opt/app' }] };
    const mapped = mapLaunch(
      {
        command: process.execPath,
        args: ['/src/app/dist/main.js', '--data', '/data/n1', '/src/app/distx', '/src/app/dist'],
        env: { A: '1' },
      },
      recipe,
    );
    expect(mapped).toEqual({
      command: 'node',
      args: ['/opt/app/main.js', '--data', '/data/n1', '/src/app/distx', '/opt/app'],
      env: { A: '1' },
    });
  });
});
