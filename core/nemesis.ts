import type { z } from 'zod';
import type { HistoryEvent } from '../checker/history/event.js';
import type { FaultStyle } from '../checker/timeline/fault-events.js';
import type { Capability, Cluster, NodeId } from './cluster.js';
import type { EventInput } from './event.js';
import type { Rng } from './random.js';

/** What a system may or may not allow a fault kind, beyond the backend's capabilities. */
export interface SystemFeatures {
  /** The system reads the clock through libc, so a clock fault moves its clock. */
  clockFaults: boolean;
  /**
   * The system says which node leads (its `leader` hook), so faults can be aimed at the leader.
   * Absent: it cannot.
   */
  leader?: boolean;
  /** The system can change its membership at runtime (its `membership` hooks). Absent: it cannot. */
  membership?: boolean;
}

/**
 * Membership changes as the nemesis drives them (the runner builds this from the system's
 * membership hooks and the cluster's pool): who is a member now, who could join, and the two
 * changes, each resolving once the system accepted it and the node started or stopped.
 */
export interface MembershipIO {
  members(): readonly NodeId[];
  /** Nodes of the pool not running as members (spares, and members removed earlier). */
  spares(): readonly NodeId[];
  /** The fewest members the system must keep. */
  readonly minMembers: number;
  join(node: NodeId): Promise<void>;
  leave(node: NodeId): Promise<void>;
}

/** A system feature a fault needs, and how to say (after "the <name> system ") that it lacks it. */
export interface SystemNeed {
  feature: keyof SystemFeatures;
  lacking: string;
}

/**
 * What a fault kind may ask of the running cluster when a fault starts (`FaultKind.resolve`):
 * the run's nodes and who leads at that moment.
 */
export interface FaultStartContext {
  nodes: readonly NodeId[];
  /**
   * The node leading now. Rejects when none leads (the executor asks again for a while first;
   * see nemesis/executor.ts) or when the system cannot say (no `leader` hook).
   */
  leader(): Promise<NodeId>;
  /** Membership now, for the membership fault (absent: the system's membership is fixed). */
  membership?: MembershipIO;
}

/** What a fault's step may use besides the cluster's primitives. */
export interface FaultActContext {
  membership?: MembershipIO;
}

/** Half of a fault: the event it records (`f` comes from the kind's `events`) and what it does. */
export interface FaultStep {
  /** The recorded event's value: the grudge, the nodes, the offsets... */
  value: unknown;
  /**
   * Calls the cluster's primitives. A rejection is recorded as the event's `error` and the plan
   * goes on, so it must not leave work running behind it (await every primitive it starts).
   */
  act(cluster: Cluster, context: FaultActContext): Promise<void>;
}

/** The values a zod shape parses to. */
export type ShapeOutput<S extends z.ZodRawShape> = z.output<z.ZodObject<S>>;

/** One planned fault of a kind: `kind` plus the fields of the kind's `fault` shape. */
export type PlannedFaultOf<Name extends string, F extends z.ZodRawShape> = {
  kind: Name;
} & ShapeOutput<F>;

/**
 * Everything about one fault kind, in one value (nemesis/kinds/ holds faultline's own). The
 * nemesis derives from a list of these its spec schema, the plan, the executor's steps and the
 * audit; the checker and the plots get `events` and `style` as data (FaultStyle).
 *
 * `settings` are fields of the nemesis spec itself (e.g. `targets`, `link`), with their
 * defaults. Several kinds may share a field by using the very same schema object.
 */
export interface FaultKind<
  Name extends string = string,
  Settings extends z.ZodRawShape = z.ZodRawShape,
  Fault extends z.ZodRawShape = z.ZodRawShape,
> {
  readonly name: Name;
  readonly settings: Settings;
  /**
   * Problems with the settings taken together, each at a field path (checked whenever a spec
   * is parsed, whichever faults it asks for).
   */
  settingsProblems?(settings: ShapeOutput<Settings>): { path: string; message: string }[];
  /** Throws when the settings name something the run does not have (checked before planning). */
  checkNodes?(settings: ShapeOutput<Settings>, nodes: readonly NodeId[]): void;
  /** The fields of a planned fault besides `kind`: every choice made (nodes, grudge, offsets...). */
  readonly fault: Fault;
  /** The backend capabilities a fault of this kind needs, with these settings. */
  capabilities(settings: ShapeOutput<Settings>): readonly Capability[];
  /** A system feature it needs too, and how to say that the system lacks it. */
  readonly needs?: SystemNeed;
  /** System features it needs with these settings (e.g. the leader hook, when aimed at the leader). */
  needsWith?(settings: ShapeOutput<Settings>): readonly SystemNeed[];
  /**
   * One concrete fault. Every random choice comes from `rng` (a stream of its own per fault), so
   * the same seed plans the same fault: changing the order of the draws changes every plan.
   */
  plan(settings: ShapeOutput<Settings>, nodes: readonly NodeId[], rng: Rng): ShapeOutput<Fault>;
  /** One line for progress lines, logs and the audit's sentences. */
  describe(fault: PlannedFaultOf<Name, Fault>): string;
  /**
   * For a fault whose nodes are known only when it starts (aimed at the leader): the concrete
   * fault, asked of the running cluster at its start. `start` and `stop` get what this returns,
   * so the start event records the nodes actually hit and the stop undoes exactly those. A
   * rejection is recorded as the start event's `error`; the fault then does nothing. Absent (or
   * returning the fault as is): the planned fault is already concrete.
   */
  resolve?(
    fault: PlannedFaultOf<Name, Fault>,
    context: FaultStartContext,
  ): Promise<PlannedFaultOf<Name, Fault>>;
  start(fault: PlannedFaultOf<Name, Fault>): FaultStep;
  stop(fault: PlannedFaultOf<Name, Fault>): FaultStep;
  /**
   * The `f` of its start and stop events. Histories on disk keep these names: do not rename.
   * A pair of the form `<x>-start`/`<x>-stop` is understood even by readers without the
   * kind's table (a re-check of an old folder, the availability windows).
   */
  readonly events: { open: string; close: string };
  /** How plots and the timeline draw it: a legend label and a CSS colour. */
  readonly style: { label: string; colour: string };
}

/** Builds a FaultKind with its types inferred from the settings and fault shapes. */
export function defineFaultKind<
  const Name extends string,
  Settings extends z.ZodRawShape,
  Fault extends z.ZodRawShape,
>(kind: FaultKind<Name, Settings, Fault>): FaultKind<Name, Settings, Fault> {
  return kind;
}

/**
 * A test spec's `nemesis` field as the runner passes it on: the fault kinds asked for and each
 * kind's settings. The nemesis validates the rest against its own schema.
 */
export interface NemesisSpec {
  faults: readonly string[];
  [setting: string]: unknown;
}

/** What the runner gives the nemesis while it runs. */
export interface NemesisIO {
  /** Records a nemesis event (`process: "nemesis"`) in the history. */
  record(event: EventInput): void;
  /** Nanoseconds since the run started (the history's clock). */
  now(): number;
  /** Aborted at the time limit or when the run stops: heal nothing, just return. */
  signal: AbortSignal;
  /**
   * The node leading now (the system's `leader` hook), undefined when none does. Absent when the
   * system has no such hook: faults aimed at the leader then fail (refused before the run).
   */
  leader?(): Promise<NodeId | undefined>;
  /** How the system changes membership (absent: it cannot; membership faults are refused before the run). */
  membership?: MembershipIO;
}

/**
 * The nemesis as the runner uses it (implemented by `nemesis/`): which backend capabilities a
 * spec needs (checked before anything starts), the fault plan (data, from the seed, recorded in
 * test.json) and carrying it out through the cluster's primitives. The runner heals everything
 * itself afterwards (`cluster.healAll()`).
 */
export interface NemesisDriver {
  requiredCapabilities(spec: NemesisSpec): readonly Capability[];
  /**
   * Why each fault cannot run with this backend and system, one sentence each naming the fault
   * and the backend (empty: all fine). Falls back to comparing `requiredCapabilities`.
   */
  unsupported?(
    spec: NemesisSpec,
    backend: { name: string; capabilities: ReadonlySet<Capability> },
    system: { name: string } & SystemFeatures,
  ): string[];
  plan(spec: NemesisSpec, nodes: readonly NodeId[], rng: Rng, timeLimitMs: number): unknown;
  /**
   * Why the plan holds fewer faults than the spec asks for, naming the setting to change
   * (undefined: complete). The runner refuses such a run before it starts.
   */
  shortfall?(spec: NemesisSpec, plan: unknown): string | undefined;
  /**
   * From the recorded history: one sentence per planned fault that was not carried out or
   * whose primitive failed (empty: every fault happened). Any sentence makes the verdict unknown.
   */
  audit?(plan: unknown, events: readonly HistoryEvent[]): string[];
  run(plan: unknown, cluster: Cluster, io: NemesisIO): Promise<void>;
  /**
   * Its fault kinds as the checker and the drawings need them: the events that open and close
   * each, its label and colour. The runner passes them to the timeline, the plots and the heal.
   */
  kinds?: readonly FaultStyle[];
}
