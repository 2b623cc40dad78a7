import type { Cluster, NodeId } from '../harness/backends/types.js';
import type { NemesisDriver } from '../harness/nemesis-driver.js';
import type { Rng } from '../harness/random.js';
import { type NemesisIO, runNemesis } from './executor.js';
import { planFaults, requiredCapabilities } from './plan.js';
import { type FaultPlan, FaultPlanSchema, type NemesisSpecInput } from './schema.js';

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
  run: async (plan: unknown, cluster: Cluster, io: NemesisIO): Promise<void> => {
    await runNemesis(FaultPlanSchema.parse(plan), cluster, io);
  },
} satisfies NemesisDriver;
