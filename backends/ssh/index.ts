export { SshConnection } from './connection.js';
export { INVENTORY_ENV, probeSync, sshBackendFromEnv } from './from-env.js';
export { type Inventory, InventoryError, loadInventory, parseInventory } from './inventory.js';
export { shCommand, shQuote } from './quote.js';
export {
  cleanInventory,
  createSshBackend,
  leftoversOnHosts,
  openSshBackend,
  probeInventory,
  SSH_CAPABILITIES,
  type SshBackendOptions,
  SshCluster,
} from './ssh-backend.js';
