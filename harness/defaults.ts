import { nemesisDriver, unsupportedFaults } from '../nemesis/index.js';
import { WORKLOADS } from '../workloads/index.js';
import { createDockerBackend } from './backends/docker/docker-backend.js';
import { createLocalBackend } from './backends/local/local-backend.js';
import type { Backend } from './backends/types.js';
import type { NemesisDriver } from './nemesis-driver.js';
import type { RunDeps } from './runner.js';
import { SYSTEMS } from './systems/index.js';

/** Backends by name. */
export const BACKENDS: ReadonlyMap<string, () => Backend> = new Map([
  ['local', () => createLocalBackend()],
  ['docker', () => createDockerBackend()],
]);

export const NEMESIS: NemesisDriver = { ...nemesisDriver, unsupported: unsupportedFaults };

/** The registries a real run uses. */
export function defaultRunDeps(): RunDeps {
  return { backends: BACKENDS, systems: SYSTEMS, workloads: WORKLOADS, nemesis: NEMESIS };
}
