// A harness that starts a local cluster of stand-in nodes, prints what it started as one JSON
// line, and waits to be killed: the clean test SIGKILLs it and checks what `clean()` finds.
import { standinRecipe } from '../../testing/standin.js';
import { createLocalBackend, type LocalCluster } from '../local-backend.js';

const registryDir = process.argv[2];
const runId = process.argv[3];
const logsDir = process.argv[4];
if (registryDir === undefined || runId === undefined || logsDir === undefined) {
  throw new Error('usage: child-harness.ts REGISTRY_DIR RUN_ID LOGS_DIR');
}
const backend = createLocalBackend({ registryDir });
const cluster = (await backend.createCluster({
  runId,
  recipe: standinRecipe(),
  nodes: ['n1', 'n2', 'n3'],
  settings: {},
  logsDir,
  startTimeoutMs: 20_000,
})) as LocalCluster;
process.stdout.write(
  `${JSON.stringify({ pids: cluster.pids(), dataDir: cluster.dataDir('n1') })}\n`,
);
setInterval(() => undefined, 60_000);
