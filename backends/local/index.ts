export { chunkDelayMs, MAX_RETRANSMITS, RETRANSMIT_TIMEOUT_MS } from './link.js';
export {
  cleanLeftovers,
  createLocalBackend,
  LOCAL_CAPABILITIES,
  type LocalBackendOptions,
  LocalCluster,
} from './local-backend.js';
export { ProxyMesh } from './mesh.js';
export { defaultRegistryDir, processesOfRun, RUN_ENV_VAR } from './registry.js';
