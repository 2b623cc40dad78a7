import type { HistoryEvent } from '../checker/history/event.js';
import type { Capability, Cluster, NodeId } from './cluster.js';
import type { EventInput } from './event.js';
import type { Rng } from './random.js';

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
    system: { name: string; clockFaults: boolean },
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
}
