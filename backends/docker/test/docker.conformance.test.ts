import { describeBackendConformance } from '../../conformance.js';
import { standinRecipe } from '../../testing/standin.js';
import { createDockerBackend } from '../docker-backend.js';
import { connectDocker } from '../engine.js';
import { describeObjectsOfRun } from '../labels.js';
import { standinImages } from './standin-image.js';

describeBackendConformance(() => createDockerBackend({ imageRecipes: standinImages }), {
  recipe: standinRecipe(),
  startTimeoutMs: 30_000,
  leftovers: async (runId) => describeObjectsOfRun(await connectDocker(), runId),
});
