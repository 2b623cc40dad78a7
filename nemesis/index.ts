import type { HistoryEvent } from '../checker/history/event.js';
import type { Cluster, NodeId } from '../harness/backends/types.js';
import type { NemesisDriver } from '../harness/nemesis-driver.js';
import type { Rng } from '../harness/random.js';
import { auditFaults } from './audit.js';
import { type NemesisIO, runNemesis } from './executor.js';
import { planFaults, planShortfall, requiredCapabilities } from './plan.js';
import { type FaultPlan, FaultPlanSchema, type NemesisSpecInput } from './schema.js';

export * from './audit.js';
export * from './executor.js';
export * from './plan.js';
export * from './schema.js';
export * from './topology.js';

/** The nemesis as the runner drives it (harness/nemesis-driver.ts). */
export const nemesisDriver = {
  requiredCapabilities: (spec: NemesisSpecInput) => requiredCapabilities(spec),
  plan: (
    spec: NemesisSpecInput,
    nodes: readonly NodeId[],
    rng: Rng,
    timeLimitMs: number,
  ): FaultPlan => planFaults(spec, nodes, rng, timeLimitMs),
  shortfall: (spec: NemesisSpecInput, plan: unknown): string | undefined =>
    planShortfall(spec, FaultPlanSchema.parse(plan)),
  audit: (plan: unknown, events: readonly HistoryEvent[]): string[] =>
    auditFaults(FaultPlanSchema.parse(plan), events),
  run: async (plan: unknown, cluster: Cluster, io: NemesisIO): Promise<void> => {
    await runNemesis(FaultPlanSchema.parse(plan), cluster, io);
  },
} satisfies NemesisDriver;
