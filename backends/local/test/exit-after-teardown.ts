// A child harness for exit-after-teardown.test.ts: brings up a 5-node leaderless cluster on the
// local backend (its nodes keep reconnecting to each other through the proxies), kills one node
// so that proxies see refused upstream connects, tears everything down, and then simply returns.
// The process must then exit by itself: nothing the backend created may keep it alive.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaderlessRecipe } from '../../../cluster-images/leaderless/system.js';
import { createLocalBackend } from '../local-backend.js';

const registryDir = process.argv[2];
if (registryDir === undefined) throw new Error('usage: exit-after-teardown.ts REGISTRY_DIR');
const logsDir = mkdtempSync(join(tmpdir(), 'faultline-exit-logs-'));
const backend = createLocalBackend({ registryDir });
const cluster = await backend.createCluster({
  runId: `exit-after-teardown-${process.pid}`,
  recipe: leaderlessRecipe(),
  nodes: ['n1', 'n2', 'n3', 'n4', 'n5'],
  settings: {},
  logsDir,
  startTimeoutMs: 20_000,
});
await cluster.kill('n3');
await new Promise((r) => setTimeout(r, 1000));
await cluster.teardown();
rmSync(logsDir, { recursive: true, force: true });
process.stdout.write('torn down\n');
