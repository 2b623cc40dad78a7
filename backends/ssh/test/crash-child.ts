/**
 * A harness that dies without teardown: brings up two stand-in nodes on the hosts of
 * INVENTORY as run RUN_ID, cuts them apart, prints `up`, and waits to be SIGKILLed.
 * SWITCH `off`: the hosts do not remove the run when the connection drops.
 * Usage: node --import tsx crash-child.ts INVENTORY RUN_ID LOGS_DIR on|off
 */
import { standinRecipe } from '../../testing/standin.js';
import { createSshBackend } from '../ssh-backend.js';

const [inventory = '', runId = '', logsDir = '', sw = 'on'] = process.argv.slice(2);
const backend = createSshBackend({ inventory, cleanupOnDisconnect: sw !== 'off' });
const cluster = await backend.createCluster({
  runId,
  recipe: standinRecipe(),
  nodes: ['n1', 'n2'],
  settings: {},
  logsDir,
  startTimeoutMs: 30_000,
});
await cluster.partition({ n1: ['n2'], n2: ['n1'] });
process.stdout.write('up\n');
setInterval(() => undefined, 60_000);
