import { z } from 'zod';

/**
 * Faults as data. A nemesis spec says which faults to inject and how often; `planFaults` turns
 * it, the node list and the run's Rng into a FaultPlan (every fault with its exact grudge or
 * targets and times), which is recorded in test.json and carried out by `runNemesis`.
 */

export const FAULT_KINDS = ['partition', 'kill', 'pause', 'clock', 'link'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which nodes a kill / pause / link / clock fault hits (a fresh random choice per fault). */
export const TARGETS = ['one', 'minority', 'majority', 'all'] as const;
export type Target = (typeof TARGETS)[number];

export const TOPOLOGIES = [
  'halves',
  'random-halves',
  'isolate-one',
  'majorities-ring',
  'bridge',
  'custom',
] as const;
export type Topology = (typeof TOPOLOGIES)[number];
export const BUILTIN_TOPOLOGIES: readonly Topology[] = TOPOLOGIES.filter((t) => t !== 'custom');

/** node → the nodes whose traffic it drops (see harness/backends/types.ts). */
export const GrudgeSchema = z.record(z.string().min(1), z.array(z.string().min(1)));

export const LinkFaultSchema = z.strictObject({
  delayMs: z.number().min(0).optional(),
  jitterMs: z.number().min(0).optional(),
  loss: z.number().min(0).max(1).optional(),
  /** Bandwidth limit on traffic leaving each target node, kbit/s (backends with 'link-bandwidth'). */
  rateKbit: z
    .number('expected a bandwidth limit in kbit/s (a number)')
    .min(8, 'expected a bandwidth limit of at least 8 kbit/s')
    .max(10_000_000, 'expected a bandwidth limit of at most 10000000 kbit/s (10 Gbit/s)')
    .optional(),
});

const seconds = (what: string) => z.number().positive(`${what}: expected seconds > 0`);

export const NemesisSpecSchema = z
  .strictObject({
    /** The fault kinds to draw from (uniformly, per fault). Empty: no nemesis. */
    faults: z.array(z.enum(FAULT_KINDS)).default([]),
    /** Mean seconds from one fault's start to the next: a fault lasts 30–70 % of it, then a quiet window of 30–70 %. */
    interval: seconds('interval').default(5),
    /** Seconds of quiet before the first fault (default: half the interval). */
    initialQuiet: z.number().min(0).optional(),
    /** Seconds a fault lasts, [min, max] (overrides the share of the interval). */
    faultDuration: z.tuple([seconds('faultDuration[0]'), seconds('faultDuration[1]')]).optional(),
    /** Seconds of quiet (recovery) after each fault, [min, max] (overrides the share of the interval). */
    quiet: z.tuple([z.number().min(0), z.number().min(0)]).optional(),
    targets: z.array(z.enum(TARGETS)).min(1).default(['one', 'minority']),
    topologies: z
      .array(z.enum(TOPOLOGIES))
      .min(1)
      .default([...BUILTIN_TOPOLOGIES]),
    /** The grudge of the `custom` topology. */
    grudge: GrudgeSchema.optional(),
    /** What a `link` fault does to the traffic leaving each target node. */
    link: LinkFaultSchema.default({ delayMs: 100, jitterMs: 100, loss: 0 }),
    /** A `clock` fault moves each target's clock by ± [half, all] of this many ms. */
    clockOffsetMs: z.number().positive().default(60_000),
  })
  .superRefine((spec, ctx) => {
    if (spec.topologies.includes('custom') && spec.grudge === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['grudge'],
        message: 'the custom topology needs a grudge (node → nodes it drops)',
      });
    }
    for (const [name, range] of [
      ['faultDuration', spec.faultDuration],
      ['quiet', spec.quiet],
    ] as const) {
      if (range !== undefined && range[0] > range[1]) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `[min, max] with min <= max, got [${range.join(', ')}]`,
        });
      }
    }
  });

export type NemesisSpec = z.output<typeof NemesisSpecSchema>;
export type NemesisSpecInput = z.input<typeof NemesisSpecSchema>;

/** One fault with every choice made: exact grudge, exact nodes, exact offsets. */
export const PlannedFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('partition'),
    topology: z.enum(TOPOLOGIES),
    grudge: GrudgeSchema,
  }),
  z.strictObject({ kind: z.literal('kill'), target: z.enum(TARGETS), nodes: z.array(z.string()) }),
  z.strictObject({ kind: z.literal('pause'), target: z.enum(TARGETS), nodes: z.array(z.string()) }),
  z.strictObject({
    kind: z.literal('link'),
    target: z.enum(TARGETS),
    nodes: z.array(z.string()),
    link: LinkFaultSchema,
  }),
  z.strictObject({
    kind: z.literal('clock'),
    target: z.enum(TARGETS),
    offsets: z.record(z.string(), z.number()),
  }),
]);
export type PlannedFault = z.infer<typeof PlannedFaultSchema>;

export const PlanEntrySchema = z.strictObject({
  index: z.number().int().min(0),
  /** ms after the nemesis starts. */
  startMs: z.number().min(0),
  durationMs: z.number().min(0),
  /** The recovery window after the fault stops, before the next fault may start. */
  quietMs: z.number().min(0),
  fault: PlannedFaultSchema,
});
export type PlanEntry = z.infer<typeof PlanEntrySchema>;

export const FaultPlanSchema = z.strictObject({
  nodes: z.array(z.string()),
  timeLimitMs: z.number().min(0),
  entries: z.array(PlanEntrySchema),
});
export type FaultPlan = z.infer<typeof FaultPlanSchema>;

/** Parse a spec, with errors that name the field and the bad value. */
export function parseNemesisSpec(input: unknown, where = 'nemesis'): NemesisSpec {
  const r = NemesisSpecSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const path = [where, ...i.path.map(String)].join('.');
    return `${path}: ${i.message}`;
  });
  throw new Error(lines.join('\n'));
}
