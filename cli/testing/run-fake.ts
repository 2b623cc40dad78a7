/**
 * A `faultline run` against the in-memory fakes, for the signal tests: a long run that only a
 * signal ends. Usage: node --import tsx run-fake.ts OUT_DIR
 */

import { fakeBackend, fakeNemesis, fakeSystem, fakeWorld } from '../../harness/testing/fakes.js';
import { WORKLOADS } from '../../workloads/index.js';
import { processIO } from '../io.js';
import { executeRun } from '../run.js';

const out = process.argv[2];
if (out === undefined) throw new Error('usage: run-fake.ts OUT_DIR');
const world = fakeWorld();
const backend = fakeBackend(world);
const realCreate = backend.createCluster.bind(backend);
backend.createCluster = async (o) => {
  const c = await realCreate(o);
  const teardown = c.teardown.bind(c);
  // Slow teardown, so that a second Ctrl-C arrives while it runs.
  c.teardown = async () => {
    process.stdout.write('teardown started\n');
    await new Promise((r) => setTimeout(r, 1500));
    await teardown();
    process.stdout.write('teardown done\n');
  };
  return c;
};
const code = await executeRun(
  {
    system: 'fake',
    backend: 'fake',
    nodes: 3,
    concurrency: 3,
    rate: 200,
    timeLimit: 600,
    recovery: 60,
    seed: 1,
    out,
  },
  processIO,
  {
    backends: new Map([['fake', () => backend]]),
    systems: new Map([['fake', fakeSystem(world)]]),
    workloads: WORKLOADS,
    nemesis: fakeNemesis(world),
  },
);
process.stdout.write(`exit ${code}\n`);
process.exitCode = code;
