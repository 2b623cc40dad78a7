import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, ClientContext, Op } from '../../core/client.js';
import type { Cluster, NodeId } from '../../core/cluster.js';
import type { Workload } from '../../workloads/index.js';
import type { Prepared } from './prepare.js';

/** The cluster did not come up; `nodeOutput` holds what the nodes said on stderr. */
export class ClusterStartError extends Error {
  override readonly name = 'ClusterStartError';
  constructor(
    override readonly cause: unknown,
    readonly nodeOutput: string[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** The last lines of each node's stderr that says more than our own start stamps. */
export function nodeStderrTails(logsDir: string, nodes: readonly NodeId[], lines = 8): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    let text: string;
    try {
      text = readFileSync(join(logsDir, n, 'stderr.log'), 'utf8');
    } catch {
      continue;
    }
    const own = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--- faultline:'));
    if (own.length === 0) continue;
    out.push(`${n} stderr (last lines):`, ...own.slice(-lines).map((l) => `  ${l}`));
  }
  return out;
}

export interface ClusterUpInput {
  prepared: Pick<Prepared, 'backend' | 'recipe' | 'nodes' | 'spares' | 'rng'>;
  runId: string;
  settings: Record<string, string>;
  logsDir: string;
  startTimeoutMs: number;
  signal: AbortSignal;
}

/**
 * Stage 2, cluster up: the backend starts every node and waits for each to be healthy. A cluster
 * that does not come up is a ClusterStartError carrying the nodes' own last words.
 */
export async function clusterUp(input: ClusterUpInput): Promise<Cluster> {
  const { backend, recipe, nodes, spares, rng } = input.prepared;
  try {
    return await backend.createCluster({
      runId: input.runId,
      recipe,
      nodes,
      ...(spares.length > 0 ? { spares } : {}),
      settings: input.settings,
      logsDir: input.logsDir,
      startTimeoutMs: input.startTimeoutMs,
      signal: input.signal,
      rng: rng.fork('backend'),
    });
  } catch (e) {
    throw new ClusterStartError(e, nodeStderrTails(input.logsDir, nodes));
  }
}

/** What every client of the run is told beside its node: the settings, and every node's address. */
export function clientContext(cluster: Cluster, settings: Record<string, string>): ClientContext {
  return {
    settings,
    nodes: cluster.nodes,
    clientAddress: (node) => cluster.clientAddress(node),
  };
}

/** One client per worker: worker t is bound to node t mod n (its completions record it). */
export function openClients(
  workload: Pick<Workload, 'client'>,
  cluster: Cluster,
  context: ClientContext,
  concurrency: number,
  into: Client<Op>[],
): void {
  const nodes = cluster.nodes;
  for (let t = 0; t < concurrency; t++) {
    const node = nodes[t % nodes.length] as NodeId;
    into.push(workload.client.open(node, cluster.clientAddress(node), context));
  }
}
