import type { HistoryEvent } from '../checker/history/event.js';
import type { Capability, Cluster, NodeId } from '../core/cluster.js';
import type { NemesisDriver, NemesisSpec, SystemFeatures } from '../core/nemesis.js';
import type { Rng } from '../core/random.js';
import { auditFaults } from './audit.js';
import { type NemesisIO, runNemesis } from './executor.js';
import { BUILTIN_FAULT_KINDS } from './kinds/index.js';
import { planFaults, planShortfall, requiredCapabilities, unsupportedFaults } from './plan.js';
import {
  type AnyFaultKind,
  type FaultKinds,
  type FaultPlanOf,
  parseSpecWith,
  type SpecInputOf,
} from './registry.js';

export * from './audit.js';
export * from './executor.js';
export { BUILTIN_FAULT_KINDS, BUILTIN_FAULT_STYLES, BUILTIN_KINDS } from './kinds/index.js';
export * from './plan.js';
export * from './registry.js';
export * from './schema.js';
export * from './topology.js';

/**
 * The nemesis as the runner drives it (core/nemesis.ts), for a registry of fault kinds: each call
 * validates the spec (and the plan) it is given against that registry's schemas.
 */
export function createNemesis<const K extends readonly AnyFaultKind[]>(kinds: FaultKinds<K>) {
  const spec = (s: NemesisSpec): SpecInputOf<K> => parseSpecWith(kinds, s) as SpecInputOf<K>;
  const plan = (p: unknown): FaultPlanOf<K> => kinds.faultPlanSchema.parse(p);
  return {
    requiredCapabilities: (s: NemesisSpec) => requiredCapabilities(spec(s), kinds),
    unsupported: (
      s: NemesisSpec,
      backend: { name: string; capabilities: ReadonlySet<Capability> },
      system: { name: string } & SystemFeatures,
    ) => unsupportedFaults(spec(s), backend, system, kinds),
    plan: (s: NemesisSpec, nodes: readonly NodeId[], rng: Rng, timeLimitMs: number) =>
      planFaults(spec(s), nodes, rng, timeLimitMs, kinds),
    shortfall: (s: NemesisSpec, p: unknown): string | undefined =>
      planShortfall(spec(s), plan(p), kinds),
    audit: (p: unknown, events: readonly HistoryEvent[]): string[] =>
      auditFaults(plan(p), events, kinds),
    run: async (p: unknown, cluster: Cluster, io: NemesisIO): Promise<void> => {
      await runNemesis(plan(p), cluster, io, kinds);
    },
    kinds: kinds.styles,
  } satisfies NemesisDriver;
}

/** faultline's own nemesis: the builtin fault kinds. */
export const nemesisDriver = createNemesis(BUILTIN_FAULT_KINDS);
