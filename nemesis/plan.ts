import type { Capability, NodeId } from '../core/cluster.js';
import type { Rng } from '../core/random.js';
import {
  type FaultKind,
  type FaultPlan,
  type NemesisSpec,
  type NemesisSpecInput,
  type PlanEntry,
  type PlannedFault,
  parseNemesisSpec,
  type Target,
} from './schema.js';
import { customGrudge, majority, partitionGrudge } from './topology.js';

/**
 * How many nodes a target names among n: one; a minority ⌊(n-1)/2⌋ (at least one, so that on
 * one or two nodes "minority" still hits a node); a majority ⌊n/2⌋+1; all.
 */
export function targetSize(target: Target, n: number): number {
  switch (target) {
    case 'one':
      return Math.min(1, n);
    case 'minority':
      return Math.min(n, Math.max(1, Math.floor((n - 1) / 2)));
    case 'majority':
      return majority(n);
    case 'all':
      return n;
  }
}

/** A random set of `targetSize(target)` nodes, listed in node order. */
export function targetNodes(target: Target, nodes: readonly NodeId[], rng: Rng): NodeId[] {
  const chosen = new Set(rng.shuffle(nodes).slice(0, targetSize(target, nodes.length)));
  return nodes.filter((n) => chosen.has(n));
}

/** The backend capabilities a spec's faults need. */
export function requiredCapabilities(specInput: NemesisSpecInput): Capability[] {
  const spec = parseNemesisSpec(specInput);
  const need = new Set<Capability>();
  for (const f of spec.faults) {
    switch (f) {
      case 'partition':
      case 'kill':
      case 'pause':
      case 'clock':
        need.add(f);
        break;
      case 'link':
        if ((spec.link.delayMs ?? 0) > 0 || (spec.link.jitterMs ?? 0) > 0) need.add('link-delay');
        if ((spec.link.loss ?? 0) > 0) need.add('link-loss');
        if (spec.link.rateKbit !== undefined) need.add('link-bandwidth');
        break;
    }
  }
  return [...need];
}

/**
 * Why each fault of the spec cannot run here, one sentence each naming the fault and the
 * backend (or the system, for clock faults on a system that reads the clock without libc).
 * Empty: everything is supported. The runner checks this before anything starts.
 */
export function unsupportedFaults(
  specInput: NemesisSpecInput,
  backend: { name: string; capabilities: ReadonlySet<Capability> },
  system?: { name: string; clockFaults: boolean },
): string[] {
  const problems: string[] = [];
  for (const c of requiredCapabilities(specInput)) {
    if (!backend.capabilities.has(c)) {
      const fault = c.startsWith('link-') ? `link (${c})` : c;
      problems.push(
        `the ${backend.name} backend cannot do the ${fault} fault (it can: ${[...backend.capabilities].join(', ') || 'nothing'})`,
      );
    }
  }
  const spec = parseNemesisSpec(specInput);
  if (spec.faults.includes('clock') && system !== undefined && !system.clockFaults) {
    problems.push(
      `the ${system.name} system does not support clock faults (it reads the clock without libc)`,
    );
  }
  return problems;
}

/**
 * The fault schedule, pure data: after an initial quiet window, faults follow one another, each
 * lasting `durationMs` and followed by a quiet (recovery) window of `quietMs` before the next;
 * the last fault ends by `timeLimitMs`. Every choice comes from `rng`, one forked stream per
 * fault (`fault-<i>`), so the same seed gives the same plan.
 */
export function planFaults(
  specInput: NemesisSpecInput,
  nodes: readonly NodeId[],
  rng: Rng,
  timeLimitMs: number,
): FaultPlan {
  const spec = parseNemesisSpec(specInput);
  if (spec.grudge !== undefined && spec.topologies.includes('custom')) {
    customGrudge(nodes, spec.grudge); // refuse unknown nodes now, not mid-run
  }
  const plan: FaultPlan = { nodes: [...nodes], timeLimitMs, entries: [] };
  if (spec.faults.length === 0 || nodes.length === 0) return plan;
  const intervalMs = spec.interval * 1000;
  let t = Math.round((spec.initialQuiet ?? spec.interval / 2) * 1000);
  // The first faults take every asked-for kind once (in a seeded order), so a plan long enough
  // to hold them all tests each kind; after that, kinds are drawn at random.
  const firstKinds = rng.fork('kinds').shuffle([...new Set(spec.faults)]);
  for (let index = 0; ; index++) {
    const r = rng.fork(`fault-${index}`);
    // Drawn even when the kind is fixed, so the fault's other choices keep their stream position.
    const drawn = r.pick(spec.faults);
    const kind = firstKinds[index] ?? drawn;
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
    const entry: PlanEntry = {
      index,
      startMs: t,
      durationMs,
      quietMs,
      fault: concreteFault(kind, spec, nodes, r),
    };
    plan.entries.push(entry);
    t += durationMs + quietMs;
  }
  return plan;
}

function concreteFault(
  kind: FaultKind,
  spec: NemesisSpec,
  nodes: readonly NodeId[],
  rng: Rng,
): PlannedFault {
  switch (kind) {
    case 'partition': {
      const topology = rng.pick(spec.topologies);
      return { kind, topology, grudge: partitionGrudge(topology, nodes, rng, spec.grudge) };
    }
    case 'kill':
    case 'pause': {
      const target = rng.pick(spec.targets);
      return { kind, target, nodes: targetNodes(target, nodes, rng) };
    }
    case 'link': {
      const target = rng.pick(spec.targets);
      return { kind, target, nodes: targetNodes(target, nodes, rng), link: { ...spec.link } };
    }
    case 'clock': {
      const target = rng.pick(spec.targets);
      const offsets: Record<NodeId, number> = {};
      for (const n of targetNodes(target, nodes, rng)) {
        const size = rng.between(0.5, 1) * spec.clockOffsetMs;
        offsets[n] = Math.round(rng.chance(0.5) ? size : -size);
      }
      return { kind, target, offsets };
    }
  }
}

/** A one-line description of a fault, for progress lines and logs. */
export function describeFault(fault: PlannedFault): string {
  switch (fault.kind) {
    case 'partition':
      return `partition ${fault.topology} ${Object.entries(fault.grudge)
        .map(([a, d]) => `${a}✕${d.join('+')}`)
        .join(' ')}`.trim();
    case 'kill':
    case 'pause':
      return `${fault.kind} ${fault.nodes.join(',')}`;
    case 'link': {
      const l = fault.link;
      const rate = l.rateKbit === undefined ? '' : ` rate ${l.rateKbit}kbit/s`;
      return `link ${fault.nodes.join(',')} delay ${l.delayMs ?? 0}±${l.jitterMs ?? 0}ms loss ${l.loss ?? 0}${rate}`;
    }
    case 'clock':
      return `clock ${Object.entries(fault.offsets)
        .map(([n, o]) => `${n}${o >= 0 ? '+' : ''}${o}ms`)
        .join(' ')}`;
  }
}

/**
 * Why a plan holds fewer faults than its spec asks for (every asked-for kind at least once),
 * naming the setting to change; undefined when the plan is complete. The runner refuses such a
 * plan before anything starts: a fault-injection run that injects nothing must not pass.
 */
export function planShortfall(specInput: NemesisSpecInput, plan: FaultPlan): string | undefined {
  const spec = parseNemesisSpec(specInput);
  const asked = [...new Set(spec.faults)];
  if (asked.length === 0) return undefined;
  const planned = new Set(plan.entries.map((e) => e.fault.kind));
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
