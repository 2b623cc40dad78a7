import type { Client, Op } from '../../core/client.js';
import type { Cluster, NodeId } from '../../core/cluster.js';
import { timeLimit } from '../../generators/index.js';
import type { ReplicaReadsSpec, Workload } from '../../workloads/index.js';
import type { ReplicaReadsOutcome } from '../final-replica-reads.js';
import { finalReplicaReads } from '../final-replica-reads.js';
import type { ProcessTable } from '../interpreter.js';
import type { Recorder } from '../recorder.js';
import { clientContext } from './cluster-up.js';
import type { Drive } from './drive.js';
import type { RunSession } from './session.js';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export interface FinalPhaseInput {
  session: RunSession;
  drive: Drive;
  cluster: Cluster;
  nodes: readonly NodeId[];
  processes: ProcessTable;
  workload: Pick<Workload, 'finalGenerator' | 'replicaReads'>;
  /** The run's system settings, for the clients' context. */
  settings: Record<string, string>;
  recoveryS: number;
  opTimeoutS: number;
  concurrency: number;
}

/**
 * Stage 5, final phase, after the heal: the recovery wait, the workload's final generator (reads
 * of every key, bounded so that it cannot hang the run), then, for eventual workloads, replica
 * reads of every node in rounds until they agree. Skipped from wherever the run was stopped.
 */
export async function finalPhase(input: FinalPhaseInput): Promise<void> {
  const { session, workload } = input;
  const { signal, recorder } = session;
  if (!signal.aborted && input.recoveryS > 0) {
    session.setPhase('recovery');
    // On the history's clock: a timer may fire a fraction of a millisecond early.
    const until = recorder.now() + input.recoveryS * 1e9;
    while (!signal.aborted && recorder.now() < until) {
      await sleep(Math.max(1, Math.ceil((until - recorder.now()) / 1e6)), signal);
    }
  }
  if (!signal.aborted && workload.finalGenerator !== undefined) {
    session.setPhase('final');
    const guardNs = (input.opTimeoutS * 4 + 10) * 1e9;
    await input.drive(timeLimit(guardNs, workload.finalGenerator), 'final');
  }
  if (!signal.aborted && workload.replicaReads !== undefined) {
    session.setPhase('converge');
    const r = await readReplicasUntilConverged(workload.replicaReads, input.cluster, input.nodes, {
      settings: input.settings,
      sink: recorder,
      // Above every client process id (ids only grow, and the clients are done).
      firstProcess:
        Math.max(...Array.from({ length: input.concurrency }, (_, t) => input.processes.of(t))) + 1,
      // A replica dump is larger than one op's answer: at least 5 s.
      opTimeoutMs: Math.max(input.opTimeoutS, 5) * 1000,
      signal,
    });
    session.note(
      r.converged
        ? `replicas agreed after ${r.rounds} rounds of replica reads`
        : `replicas still disagreed after ${r.rounds} rounds (${workload.replicaReads.boundS} s): ${r.disagreeing.slice(0, 5).join(', ')}`,
    );
  }
}

/** The final convergence phase: one replica reader per node, polled by final-replica-reads. */
async function readReplicasUntilConverged(
  spec: ReplicaReadsSpec,
  cluster: Cluster,
  nodes: readonly NodeId[],
  run: {
    settings: Record<string, string>;
    sink: Recorder;
    firstProcess: number;
    opTimeoutMs: number;
    signal: AbortSignal;
  },
): Promise<ReplicaReadsOutcome> {
  const context = clientContext(cluster, run.settings);
  const readers = new Map(
    nodes.map((n) => [n, spec.client.open(n, cluster.clientAddress(n), context)]),
  );
  try {
    return await finalReplicaReads({
      nodes,
      client: (n) => readers.get(n) as Client<Op>,
      errors: spec.client.errors,
      boundMs: spec.boundS * 1000,
      replicasPerKey: spec.replicasPerKey,
      ...run,
    });
  } finally {
    await Promise.allSettled([...readers.values()].map((r) => r.close()));
  }
}
