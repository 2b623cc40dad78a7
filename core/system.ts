import type { ClientFactory, Op } from './client.js';
import type { SystemRecipe } from './cluster.js';

/**
 * A system under test as the harness knows it: how to start its nodes (the recipe, harness-side:
 * the system itself knows nothing of faultline) and its clients by API ("lin" for linearizable
 * register operations, "kv", "set", ... as workloads need them).
 */
export interface SystemDefinition {
  name: string;
  recipe(): SystemRecipe;
  clients: Record<string, ClientFactory<Op>>;
  /** A reason the system cannot run here (e.g. its binary is not built), checked before a run. */
  preflight?(): string | undefined;
}
