import type { z } from 'zod';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import type { Verdict } from '../checker/porcupine/types.js';
import type { FaultStyle, TimelineInput } from '../checker/timeline/index.js';
import type { ClientFactory, Op } from './client.js';
import type { NodeId } from './cluster.js';
import type { Gen } from './generator.js';
import type { Rng } from './random.js';
import type { SystemDefinition } from './system.js';

/** What a checker is given: the whole history, its client ops paired, the reader's warnings. */
export interface CheckInput {
  events: readonly HistoryEvent[];
  ops: readonly ClientOp[];
  /** Budget for searches; "unknown" when it runs out. */
  timeoutMs?: number;
  /** The nemesis's fault kinds (their event names), to read the faults from the history. */
  faultStyles?: readonly FaultStyle[];
}

/** A checker's verdict plus its own evidence fields (what goes into results.json). */
export interface CheckerOutput {
  valid: Verdict;
  [field: string]: unknown;
}

export interface CheckerReport {
  result: CheckerOutput;
  /** What the anomaly timeline page draws, when this checker has something to draw. */
  timeline?: TimelineInput;
}

export interface WorkloadChecker {
  /** The key in results.json's `checkers`. */
  name: string;
  check(input: CheckInput): Promise<CheckerReport>;
}

/**
 * A workload as the runner uses it. `generator` is infinite (the runner adds the rate and the
 * time limit); `finalGenerator` runs after the heal and the recovery wait (final reads).
 */
export interface Workload {
  generator: Gen<Op>;
  finalGenerator?: Gen<Op>;
  client: ClientFactory<Op>;
  checkers: WorkloadChecker[];
  /**
   * Checked key by key (each key its own history): then every key the run touched needs its own
   * minimum of ok ops before the run can be called valid (spec `evidence.minOkOpsPerKey`).
   */
  checkedPerKey?: boolean;
  /** How `faultline check <folder>` re-checks the history (test.json `check`). */
  check?: { model: string; initial?: unknown };
  /**
   * Final replica reads (eventual workloads): after the heal, the recovery wait and the final
   * generator, the runner reads every node's replica directly with `client` (ops
   * `{f: "replica-read", value: {node, round}}`, completion value `{node, round, keys}`) in
   * rounds until the replicas agree on every key or `boundS` runs out.
   */
  replicaReads?: ReplicaReadsSpec;
}

export interface ReplicaReadsSpec {
  client: ClientFactory<Op>;
  /** Give up waiting for agreement after this many seconds of polling. */
  boundS: number;
  /**
   * How many replicas hold each key once converged (the store's replication factor, capped at
   * the node count): a key held by fewer nodes has not converged yet. A key whose replica reads
   * name its owners is held by exactly those instead.
   */
  replicasPerKey: number;
}

export interface WorkloadContext {
  system: SystemDefinition;
  nodes: readonly NodeId[];
  concurrency: number;
  /** The system's settings for this run (spec `settings`, e.g. the store's `conflict` mode). */
  settings?: Readonly<Record<string, string>>;
  /** The workload's own stream (forked from the run's seed). */
  rng: Rng;
}

/** A workload registered by name: its options schema and how to build it. */
export interface WorkloadDefinition<Options = unknown> {
  name: string;
  description: string;
  options: z.ZodType<Options>;
  build(options: Options, ctx: WorkloadContext): Workload;
}
