import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { isSystemDefinition, type SystemDefinition } from '../core/system.js';
import type { RunDeps } from '../harness/runner.js';
import { loadModule, SpecError } from '../harness/spec.js';
import type { RegisteredWorkload } from '../workloads/index.js';

/** A workload as a value (what `defineWorkload` returns). */
export function isWorkloadValue(v: unknown): v is RegisteredWorkload {
  const o = v as Partial<RegisteredWorkload> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.name === 'string' &&
    typeof o.build === 'function'
  );
}

/** `--system ./x.ts`, `/abs/x.js`: a path to a system module rather than a built-in's name. */
export function looksLikeModulePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || /\.[cm]?[jt]sx?$/.test(s);
}

/**
 * The system a module defines: its default export when that is a system, or (a config file)
 * the `system` of its default export. A SpecError naming the file otherwise.
 */
export async function loadSystemModule(file: string): Promise<SystemDefinition> {
  const mod = await loadModule(file, 'system module');
  const exported = mod.default;
  if (isSystemDefinition(exported)) return exported;
  const inSpec = (exported as { system?: unknown } | undefined)?.system;
  if (isSystemDefinition(inSpec)) return inSpec;
  throw new SpecError(
    `${file}: its default export is not a system: export default defineSystem({ ... })`,
  );
}

/** A raw spec with its values replaced by names, and the registries extended with them. */
export interface ResolvedValues {
  raw: unknown;
  deps: RunDeps;
}

/**
 * Takes the values a spec may carry (a `defineSystem` value as `system`, a `defineWorkload`
 * value as `workload` or its `name`), and a `system` naming a module path; puts them into a
 * copy of the registries and their names into the spec. `source` (the config file the spec
 * came from) is recorded as `systemFrom` for a system value, so that a re-check can rebuild it.
 */
export async function resolveUserValues(
  input: unknown,
  deps: RunDeps,
  source?: string,
): Promise<ResolvedValues> {
  if (typeof input !== 'object' || input === null) return { raw: input, deps };
  const raw: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  const systems = new Map(deps.systems);
  const workloads = new Map(deps.workloads);

  const system = raw.system;
  if (isSystemDefinition(system)) {
    systems.set(system.name, system);
    raw.system = system.name;
    if (source !== undefined && raw.systemFrom === undefined) raw.systemFrom = resolve(source);
  } else if (typeof system === 'string' && !systems.has(system) && looksLikeModulePath(system)) {
    const file = resolve(system);
    const def = await loadSystemModule(file);
    systems.set(def.name, def);
    raw.system = def.name;
    raw.systemFrom = file;
  } else if (typeof system === 'object' && system !== null) {
    throw new SpecError(
      `${source ? `${source}: ` : ''}field system: expected a name or a defineSystem(...) value`,
    );
  }

  const workload = raw.workload;
  if (isWorkloadValue(workload)) {
    workloads.set(workload.name, workload);
    raw.workload = { name: workload.name };
  } else if (typeof workload === 'object' && workload !== null) {
    const w = workload as Record<string, unknown>;
    if (isWorkloadValue(w.name)) {
      workloads.set(w.name.name, w.name);
      raw.workload = { ...w, name: w.name.name };
    }
  }
  return { raw, deps: { ...deps, systems, workloads } };
}

const recordedSpec = z.object({
  spec: z.object({ system: z.string(), systemFrom: z.string().optional() }).loose(),
});

/**
 * The registries to re-check a run folder with: the built-in ones, plus the system its test.json
 * says was defined elsewhere (`systemFrom`), when that module still loads. A warning otherwise
 * (the re-check then falls back to what it can do without the system).
 */
export async function depsForRunFolder(
  testJson: string,
  deps: RunDeps,
): Promise<{ deps: RunDeps; warning?: string }> {
  let recorded: z.infer<typeof recordedSpec>;
  try {
    recorded = recordedSpec.parse(JSON.parse(readFileSync(testJson, 'utf8')));
  } catch {
    return { deps };
  }
  const { system, systemFrom } = recorded.spec;
  if (deps.systems.has(system) || systemFrom === undefined) return { deps };
  if (!isAbsolute(systemFrom)) {
    return { deps, warning: `${testJson}: systemFrom is not an absolute path: ${systemFrom}` };
  }
  try {
    const def = await loadSystemModule(systemFrom);
    if (def.name !== system) {
      return {
        deps,
        warning: `${systemFrom} now defines system ${def.name}, not ${system} as the run recorded`,
      };
    }
    const systems = new Map(deps.systems);
    systems.set(def.name, def);
    return { deps: { ...deps, systems } };
  } catch (e) {
    return {
      deps,
      warning: `cannot rebuild system ${system} from ${systemFrom}: ${(e as Error).message}`,
    };
  }
}
