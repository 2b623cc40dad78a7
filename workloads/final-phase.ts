import { z } from 'zod';
import type { Op } from '../core/client.js';
import type { Workload, WorkloadContext } from '../core/workload.js';
import { finalReads, fullReplication, type KeyLog, requireClient } from './keyed.js';
import { withQuorum } from './quorum.js';

/** The final-phase options every eventual workload (eventual-kv, set, counter) takes. */
export const finalPhaseOptions = {
  /** After the heal, every node reads every key the run touched once. */
  finalReads: z.boolean().default(true),
  /** Seconds the final phase polls the replicas for agreement. */
  convergeTimeout: z.number().positive().default(20),
};

/**
 * The end of an eventual workload: final client reads of every key the run touched (one
 * reader per node, with the workload's read quorum) and the replica reads the runner polls
 * until the replicas agree.
 */
export function eventualFinalPhase(
  options: {
    finalReads: boolean;
    convergeTimeout: number;
    r?: number | undefined;
    w?: number | undefined;
  },
  ctx: WorkloadContext,
  log: KeyLog,
  names: { workload: string; replicaClient: string },
): Pick<Workload, 'finalGenerator' | 'replicaReads'> {
  const { system } = ctx;
  const replicaClient = requireClient(
    system.clients,
    names.replicaClient,
    system.name,
    names.workload,
  );
  return {
    ...(options.finalReads
      ? {
          finalGenerator: finalReads(
            log,
            { everyKey: ctx.nodes.length },
            (key): Op => withQuorum({ f: 'read', key }, options),
          ),
        }
      : {}),
    replicaReads: {
      client: replicaClient,
      boundS: options.convergeTimeout,
      replicasPerKey: fullReplication(
        system,
        ctx.settings,
        ctx.nodes.length,
        names.workload,
        replicaClient.keyOwners === true,
      ),
    },
  };
}
