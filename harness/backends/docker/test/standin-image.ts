import { dirname } from 'node:path';
import { STANDIN_SCRIPT } from '../../testing/standin.js';
import type { DockerBackendOptions } from '../docker-backend.js';

/**
 * The stand-in node script's image recipe: its folder copied to /opt/standin (the backend maps
 * the host path in the launch to it, and the host's node binary to the image's `node`).
 */
export const standinImages: NonNullable<DockerBackendOptions['imageRecipes']> = {
  standin: { files: [{ from: dirname(STANDIN_SCRIPT), to: '/opt/standin' }] },
};
