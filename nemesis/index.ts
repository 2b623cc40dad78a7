import type { HistoryEvent } from '../checker/history/event.js';
import type { Capability, Cluster, NodeId } from '../core/cluster.js';
import type { NemesisDriver, NemesisSpec } from '../core/nemesis.js';
import type { Rng } from '../core/random.js';
import { auditFaults } from './audit.js';
import { type NemesisIO, runNemesis } from './executor.js';
import { planFaults, planShortfall, requiredCapabilities, unsupportedFaults } from './plan.js';
import { type FaultPlan, FaultPlanSchema, parseNemesisSpec } from './schema.js';

export * from './audit.js';
export * from './executor.js';
export * from './plan.js';
export * from './schema.js';
export * from './topology.js';

/** The nemesis as the runner drives it (core/nemesis.ts): each call validates the spec it is given. */
export const nemesisDriver = {
  requiredCapabilities: (spec: NemesisSpec) => requiredCapabilities(parseNemesisSpec(spec)),
  unsupported: (
    spec: NemesisSpec,
    backend: { name: string; capabilities: ReadonlySet<Capability> },
    system: { name: string; clockFaults: boolean },
  ) => unsupportedFaults(parseNemesisSpec(spec), backend, system),
  plan: (spec: NemesisSpec, nodes: readonly NodeId[], rng: Rng, timeLimitMs: number): FaultPlan =>
    planFaults(parseNemesisSpec(spec), nodes, rng, timeLimitMs),
  shortfall: (spec: NemesisSpec, plan: unknown): string | undefined =>
    planShortfall(parseNemesisSpec(spec), FaultPlanSchema.parse(plan)),
  audit: (plan: unknown, events: readonly HistoryEvent[]): string[] =>
    auditFaults(FaultPlanSchema.parse(plan), events),
  run: async (plan: unknown, cluster: Cluster, io: NemesisIO): Promise<void> => {
    await runNemesis(FaultPlanSchema.parse(plan), cluster, io);
  },
} satisfies NemesisDriver;
