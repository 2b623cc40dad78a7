import { createDockerBackend } from '../backends/docker/docker-backend.js';
import { createLocalBackend } from '../backends/local/local-backend.js';
import { sshBackendFromEnv } from '../backends/ssh/from-env.js';
import etcdSerializable from '../cluster-images/etcd/serializable.js';
import etcd from '../cluster-images/etcd/system.js';
import leaderless from '../cluster-images/leaderless/system.js';
import redis from '../cluster-images/redis/system.js';
import zookeeperSync from '../cluster-images/zookeeper/sync.js';
import zookeeper from '../cluster-images/zookeeper/system.js';
import type { Backend } from '../core/cluster.js';
import type { NemesisDriver } from '../core/nemesis.js';
import { isSystemDefinition, type SystemDefinition } from '../core/system.js';
import type { RunDeps } from '../harness/runner.js';
import { nemesisDriver } from '../nemesis/index.js';
import { WORKLOADS } from '../workloads/index.js';

/** Backends by name. */
export const BACKENDS: ReadonlyMap<string, () => Backend> = new Map([
  ['local', () => createLocalBackend()],
  ['docker', () => createDockerBackend()],
  // Hosts over SSH: the inventory comes from --inventory (FAULTLINE_SSH_INVENTORY).
  ['ssh', () => sshBackendFromEnv()],
]);

export const NEMESIS: NemesisDriver = nemesisDriver;

/**
 * The built-in systems: modules whose default export is a `defineSystem` value, exactly what a
 * user's `--system ./my-system.ts` module is (checked the same way).
 */
const BUILT_IN_SYSTEM_MODULES: readonly { path: string; default: unknown }[] = [
  { path: 'cluster-images/leaderless/system.ts', default: leaderless },
  { path: 'cluster-images/etcd/system.ts', default: etcd },
  { path: 'cluster-images/etcd/serializable.ts', default: etcdSerializable },
  { path: 'cluster-images/redis/system.ts', default: redis },
  { path: 'cluster-images/zookeeper/system.ts', default: zookeeper },
  { path: 'cluster-images/zookeeper/sync.ts', default: zookeeperSync },
];

function builtInSystems(): Map<string, SystemDefinition> {
  const out = new Map<string, SystemDefinition>();
  for (const m of BUILT_IN_SYSTEM_MODULES) {
    if (!isSystemDefinition(m.default)) {
      throw new Error(`${m.path}: its default export is not a defineSystem(...) value`);
    }
    out.set(m.default.name, m.default);
  }
  return out;
}

/** Systems under test by name. */
export const SYSTEMS: ReadonlyMap<string, SystemDefinition> = builtInSystems();

/** The registries a real run uses. */
export function defaultRunDeps(): RunDeps {
  return { backends: BACKENDS, systems: SYSTEMS, workloads: WORKLOADS, nemesis: NEMESIS };
}
