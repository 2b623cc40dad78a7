import { createDockerBackend } from '../backends/docker/docker-backend.js';
import { createLocalBackend } from '../backends/local/local-backend.js';
import type { Backend } from '../core/cluster.js';
import type { NemesisDriver } from '../core/nemesis.js';
import type { RunDeps } from '../harness/runner.js';
import { nemesisDriver } from '../nemesis/index.js';
import { WORKLOADS } from '../workloads/index.js';
import { SYSTEMS } from './systems.js';

/** Backends by name. */
export const BACKENDS: ReadonlyMap<string, () => Backend> = new Map([
  ['local', () => createLocalBackend()],
  ['docker', () => createDockerBackend()],
]);

export const NEMESIS: NemesisDriver = nemesisDriver;

/** The registries a real run uses. */
export function defaultRunDeps(): RunDeps {
  return { backends: BACKENDS, systems: SYSTEMS, workloads: WORKLOADS, nemesis: NEMESIS };
}
