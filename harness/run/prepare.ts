import type { Backend, NodeId } from '../../core/cluster.js';
import type { NemesisDriver } from '../../core/nemesis.js';
import { Rng } from '../../core/random.js';
import type { SystemDefinition } from '../../core/system.js';
import type { RegisteredWorkload, Workload } from '../../workloads/index.js';
import type { ResolvedSpec } from '../spec.js';
import { errorText, RunSetupError } from './errors.js';

/** The registries a run draws on: what can be named in a spec. */
export interface RunDeps {
  backends: ReadonlyMap<string, () => Backend>;
  systems: ReadonlyMap<string, SystemDefinition>;
  workloads: ReadonlyMap<string, RegisteredWorkload>;
  nemesis: NemesisDriver;
}

/** n1..nN */
export function nodeNames(n: number): NodeId[] {
  return Array.from({ length: n }, (_, i) => `n${i + 1}`);
}

/** The spec's workload, built exactly as a run builds it (same seed stream). */
export function buildWorkload(
  spec: ResolvedSpec,
  deps: RunDeps,
  system: SystemDefinition,
): Workload {
  const workloadDef = deps.workloads.get(spec.workload.name);
  if (workloadDef === undefined) {
    throw new RunSetupError(
      `unknown workload ${JSON.stringify(spec.workload.name)} (known: ${[...deps.workloads.keys()].join(', ')})`,
    );
  }
  try {
    return workloadDef.build(spec.workload.options, {
      system,
      nodes: nodeNames(spec.nodes),
      concurrency: spec.concurrency,
      settings: spec.settings,
      rng: new Rng(spec.seed).fork('workload'),
    });
  } catch (e) {
    throw new RunSetupError(errorText(e));
  }
}

/**
 * Stage 1, prepare: validates the spec against the registries, the backend's capabilities and
 * the system, builds the workload and the fault plan. Nothing has started yet; every problem is
 * a RunSetupError naming what to change.
 */
export function prepare(spec: ResolvedSpec, deps: RunDeps) {
  const makeBackend = deps.backends.get(spec.backend);
  if (makeBackend === undefined) {
    throw new RunSetupError(
      `unknown backend ${JSON.stringify(spec.backend)} (known: ${[...deps.backends.keys()].join(', ')})`,
    );
  }
  const system = deps.systems.get(spec.system);
  if (system === undefined) {
    throw new RunSetupError(
      `unknown system ${JSON.stringify(spec.system)} (known: ${[...deps.systems.keys()].join(', ')})`,
    );
  }
  if (system.backends !== undefined && !system.backends.includes(spec.backend)) {
    throw new RunSetupError(
      `system ${system.name} cannot run on the ${spec.backend} backend (it can on: ${system.backends.join(', ') || 'none'})`,
    );
  }
  // The settings are the system's to judge, before anything starts.
  const badSettings = system.checkSettings?.(spec.settings);
  if (badSettings !== undefined) throw new RunSetupError(badSettings);
  const backend = makeBackend();
  const recipe = system.recipe();
  // What the system offers faults beyond the backend's primitives: clocks read through libc, and
  // a leader hook for faults aimed at the leader.
  const features = {
    name: recipe.name,
    clockFaults: recipe.clockFaults,
    leader: system.leader !== undefined,
    membership: system.membership !== undefined,
  };
  const problems =
    deps.nemesis.unsupported?.(spec.nemesis, backend, features) ??
    deps.nemesis
      .requiredCapabilities(spec.nemesis)
      .filter((c) => !backend.capabilities.has(c))
      .map(
        (c) =>
          `the ${backend.name} backend cannot do the ${c} fault (it can: ${[...backend.capabilities].join(', ') || 'nothing'})`,
      );
  if (problems.length > 0) {
    throw new RunSetupError(
      `${problems.join('; ')}: drop ${problems.length > 1 ? 'those faults' : 'that fault'} (or the target or topology named) from --nemesis, or pick another backend or system`,
    );
  }
  const nodes = nodeNames(spec.nodes);
  // The pool beyond the initial nodes, for membership faults to add.
  const spares = nodeNames(spec.maxNodes ?? spec.nodes).slice(spec.nodes);
  const rng = new Rng(spec.seed);
  const workload = buildWorkload(spec, deps, system);
  const plan = deps.nemesis.plan(spec.nemesis, nodes, rng.fork('nemesis'), spec.timeLimit * 1000);
  const shortfall = deps.nemesis.shortfall?.(spec.nemesis, plan);
  if (shortfall !== undefined) throw new RunSetupError(shortfall);
  return { backend, system, recipe, workload, nodes, spares, rng, plan };
}

export type Prepared = ReturnType<typeof prepare>;
