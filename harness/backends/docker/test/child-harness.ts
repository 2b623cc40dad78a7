// A harness that starts a docker cluster of stand-in nodes, prints one line when it is up,
// and waits to be killed: the clean test SIGKILLs it and checks what `clean()` finds.
import { standinRecipe } from '../../testing/standin.js';
import { createDockerBackend } from '../docker-backend.js';
import { standinImages } from './standin-image.js';

const [runId, logsDir] = process.argv.slice(2);
if (runId === undefined || logsDir === undefined) {
  throw new Error('usage: child-harness.ts RUN_ID LOGS_DIR');
}
await createDockerBackend({ imageRecipes: standinImages }).createCluster({
  runId,
  recipe: standinRecipe(),
  nodes: ['n1', 'n2'],
  settings: {},
  logsDir,
  startTimeoutMs: 30_000,
});
process.stdout.write('up\n');
setInterval(() => undefined, 60_000);
