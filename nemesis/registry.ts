import { z } from 'zod';
import type { FaultStyle } from '../checker/timeline/fault-events.js';
import type { FaultKind, PlannedFaultOf } from '../core/nemesis.js';

/**
 * A registry of fault kinds: the list, looked up by name, and everything derived from it that
 * is data (the nemesis spec schema, the plan schemas, the styles the checker draws with). What
 * is behaviour (planning, running, auditing) lives in plan.ts, executor.ts and audit.ts, which
 * take a registry; nemesis/kinds/index.ts holds faultline's own.
 */

export type AnyFaultKind = FaultKind;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (
  i: infer I,
) => void
  ? I
  : never;
/** Spells an intersection out as one object type (readable in editors and errors). */
type Flat<T> = { [K in keyof T]: T[K] } & {};

export type KindName<K extends readonly AnyFaultKind[]> = K[number]['name'];

const seconds = (what: string) => z.number().positive(`${what}: expected seconds > 0`);

/** The spec fields every nemesis has, whatever its kinds. */
const COMMON = {
  /** Mean seconds from one fault's start to the next: a fault lasts 30–70 % of it, then a quiet window of 30–70 %. */
  interval: seconds('interval').default(5),
  /** Seconds of quiet before the first fault (default: half the interval). */
  initialQuiet: z.number().min(0).optional(),
  /** Seconds a fault lasts, [min, max] (overrides the share of the interval). */
  faultDuration: z.tuple([seconds('faultDuration[0]'), seconds('faultDuration[1]')]).optional(),
  /** Seconds of quiet (recovery) after each fault, [min, max] (overrides the share of the interval). */
  quiet: z.tuple([z.number().min(0), z.number().min(0)]).optional(),
};

type SpecShape<K extends readonly AnyFaultKind[]> = Extract<
  Flat<
    {
      faults: z.ZodDefault<z.ZodArray<z.ZodEnum<{ [N in KindName<K>]: N }>>>;
    } & typeof COMMON &
      UnionToIntersection<K[number]['settings']>
  >,
  z.ZodRawShape
>;
export type SpecSchemaOf<K extends readonly AnyFaultKind[]> = z.ZodObject<
  SpecShape<K>,
  z.core.$strict
>;
export type SpecOf<K extends readonly AnyFaultKind[]> = z.output<SpecSchemaOf<K>>;
export type SpecInputOf<K extends readonly AnyFaultKind[]> = z.input<SpecSchemaOf<K>>;

/** One planned fault of any of the kinds: a union discriminated by `kind`. */
export type PlannedFaultOfKinds<K extends readonly AnyFaultKind[]> = K[number] extends infer E
  ? E extends AnyFaultKind
    ? Flat<PlannedFaultOf<E['name'], E['fault']>>
    : never
  : never;
export interface PlanEntryOf<K extends readonly AnyFaultKind[]> {
  index: number;
  /** ms after the nemesis starts. */
  startMs: number;
  durationMs: number;
  /** The recovery window after the fault stops, before the next fault may start. */
  quietMs: number;
  fault: PlannedFaultOfKinds<K>;
}
export interface FaultPlanOf<K extends readonly AnyFaultKind[]> {
  nodes: string[];
  timeLimitMs: number;
  entries: PlanEntryOf<K>[];
}

/** What the functions over any registry see of a spec and of a planned fault. */
export interface LooseSpec {
  faults: readonly string[];
  interval: number;
  initialQuiet?: number | undefined;
  faultDuration?: readonly [number, number] | undefined;
  quiet?: readonly [number, number] | undefined;
  [setting: string]: unknown;
}
export interface LoosePlannedFault {
  kind: string;
  [field: string]: unknown;
}

export interface FaultKinds<K extends readonly AnyFaultKind[] = readonly AnyFaultKind[]> {
  readonly list: K;
  readonly names: readonly KindName<K>[];
  /** The kind named `name`; throws for a name no kind of this registry has. */
  kind(name: string): AnyFaultKind;
  readonly specSchema: SpecSchemaOf<K>;
  readonly plannedFaultSchema: z.ZodType<PlannedFaultOfKinds<K>>;
  readonly planEntrySchema: z.ZodType<PlanEntryOf<K>>;
  readonly faultPlanSchema: z.ZodType<FaultPlanOf<K>>;
  /** Each kind's events and looks, for the checker's timeline and the plots. */
  readonly styles: readonly FaultStyle[];
}

/**
 * A registry of `list`. Refuses (throws) a list whose kinds clash: the same name twice, a
 * setting that is a common spec field or that two kinds define differently, or an event name
 * two kinds use (the history could not tell them apart).
 */
export function createFaultKinds<const K extends readonly AnyFaultKind[]>(list: K): FaultKinds<K> {
  if (list.length === 0) throw new Error('a fault-kind registry needs at least one kind');
  const byName = new Map<string, AnyFaultKind>();
  const settings: Record<string, z.core.$ZodType> = {};
  const eventOwner = new Map<string, string>();
  for (const k of list) {
    if (k.name === '' || byName.has(k.name)) {
      throw new Error(`fault kind ${JSON.stringify(k.name)} is empty or listed twice`);
    }
    byName.set(k.name, k);
    for (const [field, schema] of Object.entries(k.settings)) {
      if (field === 'faults' || Object.hasOwn(COMMON, field)) {
        throw new Error(`fault kind ${k.name}: its setting ${field} is a common nemesis field`);
      }
      // Shared only as the same object, so that the field means one thing in the spec.
      if (Object.hasOwn(settings, field) && settings[field] !== schema) {
        throw new Error(
          `fault kind ${k.name}: another kind defines the setting ${field} otherwise`,
        );
      }
      settings[field] = schema;
    }
    if (k.events.open === k.events.close) {
      throw new Error(`fault kind ${k.name}: its start and stop events have the same name`);
    }
    for (const f of [k.events.open, k.events.close]) {
      const owner = eventOwner.get(f);
      if (owner !== undefined) {
        throw new Error(`fault kinds ${owner} and ${k.name} both record the event ${f}`);
      }
      eventOwner.set(f, k.name);
    }
  }
  const names = list.map((k) => k.name) as [string, ...string[]];

  const specSchema = z
    .strictObject({
      /** The fault kinds to draw from (uniformly, per fault). Empty: no nemesis. */
      faults: z.array(z.enum(names)).default([]),
      ...COMMON,
      ...settings,
    })
    .superRefine((spec, ctx) => {
      for (const k of list) {
        for (const p of k.settingsProblems?.(spec) ?? []) {
          ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
        }
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

  const planned = list.map((k) => z.strictObject({ kind: z.literal(k.name), ...k.fault }));
  const plannedFaultSchema = z.discriminatedUnion(
    'kind',
    planned as [(typeof planned)[number], ...(typeof planned)[number][]],
  );
  const planEntrySchema = z.strictObject({
    index: z.number().int().min(0),
    startMs: z.number().min(0),
    durationMs: z.number().min(0),
    quietMs: z.number().min(0),
    fault: plannedFaultSchema,
  });
  const faultPlanSchema = z.strictObject({
    nodes: z.array(z.string()),
    timeLimitMs: z.number().min(0),
    entries: z.array(planEntrySchema),
  });

  // The schemas are built from the kinds at run time; their static types come from K.
  return {
    list,
    names,
    kind(name) {
      const k = byName.get(name);
      if (k === undefined) {
        throw new Error(`unknown fault kind ${JSON.stringify(name)} (known: ${names.join(', ')})`);
      }
      return k;
    },
    specSchema: specSchema as unknown as SpecSchemaOf<K>,
    plannedFaultSchema: plannedFaultSchema as unknown as z.ZodType<PlannedFaultOfKinds<K>>,
    planEntrySchema: planEntrySchema as unknown as z.ZodType<PlanEntryOf<K>>,
    faultPlanSchema: faultPlanSchema as unknown as z.ZodType<FaultPlanOf<K>>,
    styles: list.map((k) => ({
      kind: k.name,
      open: k.events.open,
      close: k.events.close,
      label: k.style.label,
      colour: k.style.colour,
    })),
  } as FaultKinds<K>;
}

/** Parse a spec against a registry, with errors that name the field and the bad value. */
export function parseSpecWith<K extends readonly AnyFaultKind[]>(
  kinds: FaultKinds<K>,
  input: unknown,
  where = 'nemesis',
): SpecOf<K> {
  const r = kinds.specSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const path = [where, ...i.path.map(String)].join('.');
    return `${path}: ${i.message}`;
  });
  throw new Error(lines.join('\n'));
}
