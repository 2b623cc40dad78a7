import { dirname } from 'node:path';
import type { Cluster } from '../../../core/cluster.js';
import { STANDIN_SCRIPT, standinRecipe } from '../../testing/standin.js';
import type { DockerBackendOptions } from '../docker-backend.js';
import { createDockerBackend } from '../docker-backend.js';

/**
 * The stand-in node script's image recipe: its folder copied to /opt/standin (the backend maps
 * the host path in the launch to it, and the host's node binary to the image's `node`).
 */
export const standinImages: NonNullable<DockerBackendOptions['imageRecipes']> = {
  standin: { files: [{ from: dirname(STANDIN_SCRIPT), to: '/opt/standin' }] },
};

/** A two-node cluster of stand-in nodes (n1, n2) on a docker backend with `options`. */
export function standinCluster(
  runId: string,
  logsDir: string,
  options: Omit<DockerBackendOptions, 'imageRecipes'> = {},
): Promise<Cluster> {
  return createDockerBackend({ imageRecipes: standinImages, ...options }).createCluster({
    runId,
    recipe: standinRecipe(),
    nodes: ['n1', 'n2'],
    settings: {},
    logsDir,
    startTimeoutMs: 30_000,
  });
}
