import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { SystemDefinition } from '../core/system.js';
import { NemesisSpecSchema as nemesisSpecSchema } from '../nemesis/schema.js';
import type { RegisteredWorkload } from '../workloads/index.js';

/**
 * A test as data: one zod schema for config files (`defineTest({...})`), JSON and CLI flags.
 * Durations are in seconds, as on the command line. Errors name the field and the bad value.
 */

const seconds = (what: string) =>
  z
    .number({ error: `expected ${what} in seconds (a number)` })
    .positive(`expected ${what} > 0 seconds`);

/** Settings passed to every node, `--key value`; numbers and booleans are written as text. */
const settingsSchema = z.record(
  z.string().regex(/^[a-z][a-z0-9-]*$/, 'setting names are lower-case flags like read-repair'),
  z.union([z.string(), z.number(), z.boolean()]).transform(String),
);

const workloadObjectSchema = z.strictObject({
  name: z.string().min(1),
  /** Workload-specific options, validated by the workload's own schema. */
  options: z.record(z.string(), z.unknown()).default({}),
});

/** `{name, options}`, or just the name (`"register"`), as the flag takes it. */
export const workloadSpecSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  workloadObjectSchema,
);

/** How much a run must have done before "valid" counts (run-verdict.ts). */
export const evidenceSchema = z.strictObject({
  /** Completed ok client ops over the whole run. */
  minOkOps: z.number().int('expected a whole number of ops').min(0).default(10),
  /** Completed ok client ops on each key the run touched (workloads checked per key). */
  minOkOpsPerKey: z.number().int('expected a whole number of ops').min(0).default(1),
});

export const testSpecSchema = z
  .object({
    /** Names the results folder (`results/<name>/<timestamp>/`); default `<system>-<workload>`. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected letters, digits, _ . - (it names a folder)')
      .optional(),
    system: z.string().min(1).default('leaderless'),
    /**
     * Where a system that is not built in was defined: a module whose default export is the
     * system, or a config file whose default export's `system` is. Recorded in test.json so that
     * `faultline check <run folder>` can rebuild the system; filled in by faultline.
     */
    systemFrom: z.string().min(1).optional(),
    nodes: z.number().int('expected a whole number of nodes').min(1).max(64).default(5),
    /**
     * The pool: nodes n(nodes+1)..n(maxNodes) are provisioned but not started, for the
     * membership fault to add (absent: no pool).
     */
    maxNodes: z.number().int('expected a whole number of nodes').min(1).max(64).optional(),
    backend: z.string().min(1).default('local'),
    workload: workloadSpecSchema.default({ name: 'register', options: {} }),
    nemesis: nemesisSpecSchema.default(nemesisSpecSchema.parse({})),
    /** Client workers (logical processes at a time). */
    concurrency: z.number().int('expected a whole number of workers').min(1).max(1000).default(10),
    /** Target ops per second across all workers. */
    rate: z.number().positive('expected ops per second > 0').default(200),
    timeLimit: seconds('the time limit').default(30),
    /** Time after healing every fault before the final phase. */
    recovery: z.number().nonnegative('expected seconds ≥ 0').default(5),
    /** A client operation taking longer is recorded as info (unknown outcome). */
    opTimeout: seconds('the op timeout').default(5),
    /** Random when absent; always printed and recorded in test.json. */
    seed: z.number().int('expected an integer seed').min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    out: z.string().min(1).default('results'),
    settings: settingsSchema.default({}),
    evidence: evidenceSchema.default({ minOkOps: 10, minOkOpsPerKey: 1 }),
  })
  .strict()
  .refine((s) => s.maxNodes === undefined || s.maxNodes >= s.nodes, {
    path: ['maxNodes'],
    message: 'expected at least as many as nodes (the pool holds the initial nodes too)',
  });

/**
 * What a config file may write: the schema's input, with the workload's short form typed, and
 * the system and the workload either by name or as values (`defineSystem`, `defineWorkload`).
 */
export type TestSpecInput = Omit<z.input<typeof testSpecSchema>, 'workload' | 'system'> & {
  system?: string | SystemDefinition;
  workload?:
    | string
    | RegisteredWorkload
    | { name: string | RegisteredWorkload; options?: Record<string, unknown> };
};
export type TestSpec = z.output<typeof testSpecSchema>;
/** A spec whose seed has been chosen. */
export type ResolvedSpec = TestSpec & { name: string; seed: number };

/** For config files: `export default defineTest({ ... })`. Validated when loaded. */
export function defineTest(spec: TestSpecInput): TestSpecInput {
  return spec;
}

export class SpecError extends Error {
  override readonly name = 'SpecError';
}

function at(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** "field nemesis.interval: expected … , got -3" for each zod issue. */
export function describeIssues(error: z.ZodError, input: unknown, source?: string): string {
  return error.issues
    .map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      if (keys.length > 0) {
        const where = issue.path.length > 0 ? ` in ${issue.path.join('.')}` : '';
        return `${source ? `${source}: ` : ''}unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}${where}`;
      }
      const field = issue.path.join('.') || '(the spec)';
      return `${source ? `${source}: ` : ''}field ${field}: ${issue.message}, got ${show(at(input, issue.path))}`;
    })
    .join('\n');
}

/** Validates a spec; throws a SpecError naming every bad field and its value. */
export function parseSpec(input: unknown, source?: string): TestSpec {
  const r = testSpecSchema.safeParse(input);
  if (!r.success) throw new SpecError(describeIssues(r.error, input, source));
  return r.data;
}

/** Fills in the name and the seed (random when absent). */
export function resolveSpec(spec: TestSpec, randomSeed: () => number): ResolvedSpec {
  return {
    ...spec,
    name: spec.name ?? `${spec.system}-${spec.workload.name}`,
    seed: spec.seed ?? randomSeed(),
  };
}

/**
 * Loads a config file: `.json`, or a JS/TS module whose default export (or `test` export) is the
 * spec (`defineTest`). TS files need the `tsx` loader (a dev dependency of faultline).
 */
export async function loadConfigFile(file: string): Promise<unknown> {
  if (file.endsWith('.json')) {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(file, 'utf8').catch(() => {
      throw new SpecError(`${file}: cannot read the config file`);
    });
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new SpecError(`${file}: not JSON: ${(e as Error).message}`);
    }
  }
  const mod = await loadModule(file, 'config file');
  const spec = mod.default ?? mod.test;
  if (spec === undefined) {
    throw new SpecError(`${file}: export the spec as default: export default defineTest({ ... })`);
  }
  return spec;
}

/** A JS/TS module's exports (TS through tsx); a SpecError naming the file when it cannot load. */
export async function loadModule(file: string, what: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  let mod: Record<string, unknown>;
  try {
    if (/\.[cm]?tsx?$/.test(file)) {
      const api = (await import('tsx/esm/api').catch(() => {
        throw new Error(
          'TypeScript config files need tsx (npm i -D tsx); or write it as .mjs/.js/.json',
        );
      })) as { tsImport: (f: string, parent: string) => Promise<Record<string, unknown>> };
      mod = await api.tsImport(url, import.meta.url);
    } else {
      mod = (await import(url)) as Record<string, unknown>;
    }
  } catch (e) {
    throw new SpecError(`${file}: cannot load the ${what}: ${(e as Error).message}`);
  }
  // A TS file outside an ESM package is compiled as CommonJS: its exports arrive as `default`.
  const inner = mod.default;
  if (
    typeof inner === 'object' &&
    inner !== null &&
    'default' in inner &&
    Object.keys(mod).every((k) => k === 'default' || k in inner)
  ) {
    return inner as Record<string, unknown>;
  }
  return mod;
}

/** What `faultline run` parses from its flags (all optional: they override the config file). */
export interface RunFlags {
  name?: string;
  system?: string;
  backend?: string;
  nodes?: string;
  maxNodes?: string;
  workload?: string;
  workloadOpt?: string[];
  nemesis?: string;
  nemesisInterval?: string;
  nemesisTargets?: string;
  concurrency?: string;
  rate?: string;
  timeLimit?: string;
  recovery?: string;
  opTimeout?: string;
  seed?: string;
  systemOpt?: string[];
  out?: string;
  minOkOps?: string;
  minOkOpsPerKey?: string;
}

/** `key=value` pairs as a record; a pair without `=` is a SpecError naming the flag. */
export function parsePairs(flag: string, pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new SpecError(`${flag} ${JSON.stringify(p)}: expected key=value`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** Values that read as JSON (numbers, booleans, arrays) as such; anything else as text. */
function jsonValues(pairs: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(pairs)) {
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** A numeric flag as a number (kept as text when not numeric, so the schema names the bad value). */
function num(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? n : v;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Maps CLI flags onto the spec (a raw input for `parseSpec`), merged over `base` (a config
 * file's spec): a flag given wins; nested objects are merged field by field.
 */
export function specFromFlags(flags: RunFlags, base: unknown = {}): unknown {
  const b = (typeof base === 'object' && base !== null ? base : {}) as Record<string, unknown>;
  const baseWorkload = (
    typeof b.workload === 'string' ? { name: b.workload } : (b.workload ?? {})
  ) as Record<string, unknown>;
  const baseNemesis = (b.nemesis ?? {}) as Record<string, unknown>;
  const workloadOptions = flags.workloadOpt?.length
    ? {
        ...((baseWorkload.options as object | undefined) ?? {}),
        ...jsonValues(parsePairs('--workload-opt', flags.workloadOpt)),
      }
    : undefined;
  const workload =
    flags.workload !== undefined || workloadOptions !== undefined
      ? defined({
          ...baseWorkload,
          name: flags.workload ?? baseWorkload.name ?? 'register',
          options: workloadOptions ?? baseWorkload.options,
        })
      : b.workload;
  const list = (s: string | undefined) =>
    s === undefined
      ? undefined
      : s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== '' && x !== 'none');
  const nemesisFlags = defined({
    faults: list(flags.nemesis),
    interval: num(flags.nemesisInterval),
    targets: list(flags.nemesisTargets),
  });
  const nemesis =
    Object.keys(nemesisFlags).length > 0 ? { ...baseNemesis, ...nemesisFlags } : b.nemesis;
  const evidenceFlags = defined({
    minOkOps: num(flags.minOkOps),
    minOkOpsPerKey: num(flags.minOkOpsPerKey),
  });
  const baseEvidence = (b.evidence ?? {}) as Record<string, unknown>;
  const evidence =
    Object.keys(evidenceFlags).length > 0 ? { ...baseEvidence, ...evidenceFlags } : b.evidence;
  const settings = flags.systemOpt?.length
    ? {
        ...((b.settings as object | undefined) ?? {}),
        ...parsePairs('--system-opt', flags.systemOpt),
      }
    : b.settings;
  return defined({
    ...b,
    name: flags.name ?? b.name,
    system: flags.system ?? b.system,
    // Where the config's system came from no longer applies once --system names another.
    systemFrom: flags.system !== undefined ? undefined : b.systemFrom,
    backend: flags.backend ?? b.backend,
    nodes: num(flags.nodes) ?? b.nodes,
    maxNodes: num(flags.maxNodes) ?? b.maxNodes,
    workload,
    nemesis,
    concurrency: num(flags.concurrency) ?? b.concurrency,
    rate: num(flags.rate) ?? b.rate,
    timeLimit: num(flags.timeLimit) ?? b.timeLimit,
    recovery: num(flags.recovery) ?? b.recovery,
    opTimeout: num(flags.opTimeout) ?? b.opTimeout,
    seed: num(flags.seed) ?? b.seed,
    out: flags.out ?? b.out,
    settings,
    evidence,
  });
}
