/**
 * faultline's public API (the package's "." entry): define a system, a workload and a test,
 * and run the test from your own code or test suite. Everything a system or a workload needs
 * from faultline is exported here; nothing else of faultline's source is needed.
 */
import { randomInt } from 'node:crypto';
import type { WorkloadDefinition } from '../core/workload.js';
import type { RunOptions, RunOutcome } from '../harness/runner.js';
import { runTest as runResolvedSpec } from '../harness/runner.js';
import type { TestSpecInput } from '../harness/spec.js';
import { parseSpec, resolveSpec, SpecError } from '../harness/spec.js';
import { type RegisteredWorkload, registerWorkload } from '../workloads/index.js';
import { defaultRunDeps } from './registries.js';
import { resolveUserValues } from './user-values.js';

export { z } from 'zod';
export type {
  Classified,
  Client,
  ClientApi,
  ClientFactory,
  ConflictMode,
  ErrorClass,
  ErrorRule,
  OkResult,
  Op,
  QuorumOp,
} from '../core/client.js';
export { CLIENT_APIS, ErrorRegistry, hasCode, OpError } from '../core/client.js';
export type {
  DockerImageRecipe,
  HostPort,
  LaunchContext,
  NodeId,
  NodeLaunch,
  SystemRecipe,
} from '../core/cluster.js';
export type { Gen, GenContext } from '../core/generator.js';
export { HttpJsonClient, HttpStatusError } from '../core/http-json.js';
export type {
  ClusterView,
  DockerImageInput,
  MembershipHooks,
  SettingsSchema,
  SystemConfig,
  SystemDefinition,
  SystemLaunchContext,
} from '../core/system.js';
export { defineSystem, SystemDefinitionError } from '../core/system.js';
export type {
  CheckerOutput,
  CheckerReport,
  CheckInput,
  Workload,
  WorkloadChecker,
  WorkloadContext,
  WorkloadDefinition,
} from '../core/workload.js';
export * as gen from '../generators/index.js';
export type { RunOptions, RunOutcome } from '../harness/runner.js';
export { InternalError, RunSetupError } from '../harness/runner.js';
export type { TestSpecInput } from '../harness/spec.js';
export { defineTest, SpecError } from '../harness/spec.js';
export { linearizabilityChecker, statsChecker } from '../workloads/checkers.js';
export type { RegisteredWorkload } from '../workloads/index.js';
export { WorkloadOptionsError } from '../workloads/index.js';
export { requireClient } from '../workloads/keyed.js';
export { BACKENDS, SYSTEMS } from './registries.js';
export { loadSystemModule } from './user-values.js';

/**
 * Defines a workload: its options schema (validated when a run builds it, errors naming
 * `workload.options.<field>`) and how to build its generator, client and checkers. A workload
 * reaches the system only through a named client API (`requireClient` semantics: a system
 * without it is refused before the run starts). Use it as `defineTest({ workload: value })`.
 */
export function defineWorkload<O>(def: WorkloadDefinition<O>): RegisteredWorkload {
  if (!/^[a-z][a-z0-9-]*$/.test(def.name)) {
    throw new SpecError(
      `defineWorkload(${def.name}): field name: expected lower-case letters, digits and -`,
    );
  }
  return registerWorkload(def);
}

export interface RunTestOptions extends RunOptions {
  /**
   * The file the spec (or its system) is defined in, recorded in test.json as `systemFrom` so
   * that `faultline check <run folder>` can rebuild a system given as a value.
   */
  source?: string;
}

/**
 * Runs a test and resolves to its outcome (`verdict`: valid / invalid / unknown, `status`,
 * the results folder `dir`, ...). The spec may carry its system and workload as values or name
 * built-in ones. Throws SpecError, RunSetupError or WorkloadOptionsError when the test cannot
 * run (nothing has started then, or the cluster did not come up), InternalError on a bug.
 */
export async function runTest(
  spec: TestSpecInput,
  options: RunTestOptions = {},
): Promise<RunOutcome> {
  const { source, ...runOptions } = options;
  const { raw, deps } = await resolveUserValues(spec, defaultRunDeps(), source);
  const resolved = resolveSpec(parseSpec(raw, source), () => randomInt(0, 2 ** 31 - 1));
  return runResolvedSpec(resolved, deps, runOptions);
}
