import { describeBackendConformance } from '../conformance.js';
import { createLocalBackend } from './local-backend.js';
import { processesOfRun } from './registry.js';

describeBackendConformance(() => createLocalBackend(), {
  leftovers: async (runId) => processesOfRun(runId).map((pid) => `process ${pid}`),
});
