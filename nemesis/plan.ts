import type { Capability, NodeId } from '../core/cluster.js';
import type { SystemFeatures } from '../core/nemesis.js';
import type { Rng } from '../core/random.js';
import { BUILTIN_FAULT_KINDS, type BUILTIN_KINDS } from './kinds/index.js';
import {
  type AnyFaultKind,
  type FaultKinds,
  type FaultPlanOf,
  type LoosePlannedFault,
  type LooseSpec,
  type PlannedFaultOfKinds,
  parseSpecWith,
  type SpecInputOf,
} from './registry.js';

export { targetNodes, targetSize } from './kinds/shared.js';

/**
 * The functions below work with any registry of fault kinds (`kinds`, faultline's own when
 * left out); nemesis/index.ts's `createNemesis(kinds)` binds them into a driver.
 */
type Builtin = typeof BUILTIN_KINDS;

/**
 * The registry to use (faultline's own when none is given), seen without its static types, as
 * the code that serves every registry sees it.
 */
export function loose<K extends readonly AnyFaultKind[]>(
  kinds: FaultKinds<K> | undefined,
): FaultKinds {
  return (kinds ?? BUILTIN_FAULT_KINDS) as unknown as FaultKinds;
}

function parseLoose(kinds: FaultKinds, input: unknown): LooseSpec {
  return parseSpecWith(kinds, input) as LooseSpec;
}

/** The kinds a spec asks for, each once, in the spec's order. */
function askedKinds(kinds: FaultKinds, spec: LooseSpec): AnyFaultKind[] {
  return [...new Set(spec.faults)].map((name) => kinds.kind(name));
}

/** The backend capabilities a spec's faults need. */
export function requiredCapabilities<K extends readonly AnyFaultKind[] = Builtin>(
  specInput: SpecInputOf<K>,
  kinds?: FaultKinds<K>,
): Capability[] {
  const reg = loose(kinds);
  const spec = parseLoose(reg, specInput);
  const need = new Set<Capability>();
  for (const k of askedKinds(reg, spec)) for (const c of k.capabilities(spec)) need.add(c);
  return [...need];
}

/**
 * Why each fault of the spec cannot run here, one sentence each naming the fault and the
 * backend (or the system, for a kind that needs a system feature, e.g. clock faults on a system
 * that reads the clock without libc). Empty: everything is supported. The runner checks this
 * before anything starts.
 */
export function unsupportedFaults<K extends readonly AnyFaultKind[] = Builtin>(
  specInput: SpecInputOf<K>,
  backend: { name: string; capabilities: ReadonlySet<Capability> },
  system?: { name: string } & SystemFeatures,
  kinds?: FaultKinds<K>,
): string[] {
  const reg = loose(kinds);
  const spec = parseLoose(reg, specInput);
  const asked = askedKinds(reg, spec);
  const problems: string[] = [];
  const told = new Set<string>();
  for (const k of asked) {
    for (const c of k.capabilities(spec)) {
      if (backend.capabilities.has(c) || told.has(`${k.name} ${c}`)) continue;
      told.add(`${k.name} ${c}`);
      // A capability named like its kind names the fault alone: "the clock fault".
      const fault = c === k.name ? c : `${k.name} (${c})`;
      problems.push(
        `the ${backend.name} backend cannot do the ${fault} fault (it can: ${[...backend.capabilities].join(', ') || 'nothing'})`,
      );
    }
  }
  if (system === undefined) return problems;
  for (const k of asked) {
    for (const need of [
      ...(k.needs === undefined ? [] : [k.needs]),
      ...(k.needsWith?.(spec) ?? []),
    ]) {
      const sentence = `the ${system.name} system ${need.lacking}`;
      // Kinds sharing a setting (targets: leader) share the sentence: once is enough.
      if (!system[need.feature] && !problems.includes(sentence)) problems.push(sentence);
    }
  }
  return problems;
}

/**
 * The fault schedule, pure data: after an initial quiet window, faults follow one another, each
 * lasting `durationMs` and followed by a quiet (recovery) window of `quietMs` before the next;
 * the last fault ends by `timeLimitMs`. Every choice comes from `rng`, one forked stream per
 * fault (`fault-<i>`), so the same seed gives the same plan.
 */
export function planFaults<K extends readonly AnyFaultKind[] = Builtin>(
  specInput: SpecInputOf<K>,
  nodes: readonly NodeId[],
  rng: Rng,
  timeLimitMs: number,
  kinds?: FaultKinds<K>,
): FaultPlanOf<K> {
  const reg = loose(kinds);
  const spec = parseLoose(reg, specInput);
  for (const k of reg.list) k.checkNodes?.(spec, nodes);
  const plan: FaultPlanOf<readonly AnyFaultKind[]> = {
    nodes: [...nodes],
    timeLimitMs,
    entries: [],
  };
  if (spec.faults.length === 0 || nodes.length === 0) return plan as FaultPlanOf<K>;
  const intervalMs = spec.interval * 1000;
  let t = Math.round((spec.initialQuiet ?? spec.interval / 2) * 1000);
  // The first faults take every asked-for kind once (in a seeded order), so a plan long enough
  // to hold them all tests each kind; after that, kinds are drawn at random.
  const firstKinds = rng.fork('kinds').shuffle([...new Set(spec.faults)]);
  for (let index = 0; ; index++) {
    const r = rng.fork(`fault-${index}`);
    // Drawn even when the kind is fixed, so the fault's other choices keep their stream position.
    const drawn = r.pick(spec.faults);
    const kind = reg.kind(firstKinds[index] ?? drawn);
    const durationMs = Math.round(
      spec.faultDuration
        ? r.between(spec.faultDuration[0], spec.faultDuration[1]) * 1000
        : r.between(0.3, 0.7) * intervalMs,
    );
    const quietMs = Math.round(
      spec.quiet
        ? r.between(spec.quiet[0], spec.quiet[1]) * 1000
        : r.between(0.3, 0.7) * intervalMs,
    );
    if (t + durationMs > timeLimitMs) break;
    plan.entries.push({
      index,
      startMs: t,
      durationMs,
      quietMs,
      fault: { kind: kind.name, ...kind.plan(spec, nodes, r) },
    });
    t += durationMs + quietMs;
  }
  return plan as FaultPlanOf<K>;
}

/** A one-line description of a fault, for progress lines and logs. */
export function describeFault<K extends readonly AnyFaultKind[] = Builtin>(
  fault: PlannedFaultOfKinds<K>,
  kinds?: FaultKinds<K>,
): string {
  const f = fault as LoosePlannedFault;
  return loose(kinds).kind(f.kind).describe(f);
}

/**
 * Why a plan holds fewer faults than its spec asks for (every asked-for kind at least once),
 * naming the setting to change; undefined when the plan is complete. The runner refuses such a
 * plan before anything starts: a fault-injection run that injects nothing must not pass.
 */
export function planShortfall<K extends readonly AnyFaultKind[] = Builtin>(
  specInput: SpecInputOf<K>,
  plan: FaultPlanOf<K>,
  kinds?: FaultKinds<K>,
): string | undefined {
  const spec = parseLoose(loose(kinds), specInput);
  const asked = [...new Set(spec.faults)];
  if (asked.length === 0) return undefined;
  const planned = new Set<string>(plan.entries.map((e) => (e.fault as LoosePlannedFault).kind));
  const missing = asked.filter((k) => !planned.has(k));
  if (missing.length === 0) return undefined;
  // Each fault takes about one interval (fault plus quiet), after the initial quiet window.
  const firstS = spec.initialQuiet ?? spec.interval / 2;
  const perFaultS = spec.faultDuration
    ? spec.faultDuration[1] + (spec.quiet?.[1] ?? spec.interval * 0.7)
    : spec.interval * 1.4;
  const neededS = Math.ceil(firstS + asked.length * perFaultS);
  const limitS = plan.timeLimitMs / 1000;
  const holds =
    plan.entries.length === 0
      ? 'no fault at all'
      : `only ${plan.entries.length} fault${plan.entries.length === 1 ? '' : 's'} (${[...planned].join(', ')})`;
  return (
    `the fault plan for a ${limitS} s run holds ${holds}, but --nemesis asks for ${asked.join(', ')}` +
    ` (missing: ${missing.join(', ')}): raise --time-limit to at least ${neededS} s, or lower` +
    ` --nemesis-interval (now ${spec.interval} s)`
  );
}
