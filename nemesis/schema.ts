import type { z } from 'zod';
import { BUILTIN_FAULT_KINDS } from './kinds/index.js';
import { parseSpecWith } from './registry.js';

/**
 * Faults as data. A nemesis spec says which faults to inject and how often; `planFaults` turns
 * it, the node list and the run's Rng into a FaultPlan (every fault with its exact grudge or
 * targets and times), which is recorded in test.json and carried out by `runNemesis`.
 *
 * Every schema here is derived from the registry of fault kinds (nemesis/kinds/): each kind
 * brings its own settings (`targets`, `topologies`, `grudge`, `link`, `clockOffsetMs`) and the
 * fields of its planned fault.
 */

export { LinkFaultSchema } from './kinds/link.js';
export { GrudgeSchema } from './kinds/partition.js';
export { TARGETS, type Target } from './kinds/shared.js';
export { BUILTIN_TOPOLOGIES, TOPOLOGIES, type Topology } from './topology.js';

export const FAULT_KINDS = BUILTIN_FAULT_KINDS.names;
export type FaultKindName = (typeof FAULT_KINDS)[number];

export const NemesisSpecSchema = BUILTIN_FAULT_KINDS.specSchema;
export type NemesisSpec = z.output<typeof NemesisSpecSchema>;
export type NemesisSpecInput = z.input<typeof NemesisSpecSchema>;

/** One fault with every choice made: exact grudge, exact nodes, exact offsets. */
export const PlannedFaultSchema = BUILTIN_FAULT_KINDS.plannedFaultSchema;
export type PlannedFault = z.output<typeof PlannedFaultSchema>;

export const PlanEntrySchema = BUILTIN_FAULT_KINDS.planEntrySchema;
export type PlanEntry = z.output<typeof PlanEntrySchema>;

export const FaultPlanSchema = BUILTIN_FAULT_KINDS.faultPlanSchema;
export type FaultPlan = z.output<typeof FaultPlanSchema>;

/** Parse a spec, with errors that name the field and the bad value. */
export function parseNemesisSpec(input: unknown, where = 'nemesis'): NemesisSpec {
  return parseSpecWith(BUILTIN_FAULT_KINDS, input, where);
}
