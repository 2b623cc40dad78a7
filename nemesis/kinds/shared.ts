import { z } from 'zod';
import type { Capability, Cluster, NodeId } from '../../core/cluster.js';
import type { FaultStartContext, SystemNeed } from '../../core/nemesis.js';
import { defineFaultKind } from '../../core/nemesis.js';
import type { Rng } from '../../core/random.js';
import { majority } from '../topology.js';

/** What the fault kinds that hit a set of nodes share: the `targets` setting and its draws. */

/**
 * Which nodes a kill / pause / link / clock fault hits: a fresh random choice per fault, or
 * `leader`, whoever leads when the fault starts (systems with a `leader` hook; planned with no
 * nodes, resolved at the start). Appended last: the order is part of no draw.
 */
export const TARGETS = ['one', 'minority', 'majority', 'all', 'leader'] as const;
export type Target = (typeof TARGETS)[number];

/**
 * The spec's `targets` field. One schema object for every kind that uses it: the registry merges
 * the kinds' settings into one spec and accepts a field shared only when it is the same object.
 */
export const targetsSetting = z.array(z.enum(TARGETS)).min(1).default(['one', 'minority']);

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
    case 'leader':
      return Math.min(1, n);
  }
}

/**
 * A random set of `targetSize(target)` nodes, listed in node order. For `leader`: none, and
 * nothing is drawn (the node is known only when the fault starts: `leaderTarget`).
 */
export function targetNodes(target: Target, nodes: readonly NodeId[], rng: Rng): NodeId[] {
  if (target === 'leader') return [];
  const chosen = new Set(rng.shuffle(nodes).slice(0, targetSize(target, nodes.length)));
  return nodes.filter((n) => chosen.has(n));
}

/** What a system without a `leader` hook lacks for faults aimed at the leader. */
export function leaderNeed(what: string): SystemNeed {
  return {
    feature: 'leader',
    lacking: `has no leader hook (it cannot say which node leads), so it cannot take ${what}`,
  };
}

/** The need of the kinds that use `targets`: the leader hook, when `leader` is among them. */
export const targetsNeed = (s: { targets: readonly Target[] }): SystemNeed[] =>
  s.targets.includes('leader') ? [leaderNeed('faults aimed at the leader (targets: leader)')] : [];

/**
 * The nodes a fault hits, known at its start: the planned ones, or for `leader` the node leading
 * now (asked of the running system through the context).
 */
export async function startNodes(
  fault: { target: Target; nodes: readonly NodeId[] },
  context: FaultStartContext,
): Promise<NodeId[]> {
  return fault.target === 'leader' ? [await context.leader()] : [...fault.nodes];
}

/** The nodes a fault names in descriptions: `leader` for a planned fault aimed at the leader. */
export const nodesText = (f: { target: Target; nodes: readonly NodeId[] }): string =>
  f.target === 'leader' && f.nodes.length === 0 ? 'leader' : f.nodes.join(',');

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Runs `op` on every node at once and waits for all of them; rejects with every failure, each
 * named by its node ("n1: ...; n3: ..."), which the executor records as the event's error.
 */
export async function onEachNode(
  nodes: readonly NodeId[],
  op: (n: NodeId) => Promise<void>,
): Promise<void> {
  const results = await Promise.allSettled(nodes.map(op));
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${nodes[i]}: ${errorText(r.reason)}`] : [],
  );
  if (failed.length > 0) throw new Error(failed.join('; '));
}

/**
 * A fault that runs one cluster primitive on each target node to start, and its inverse to
 * stop (kill/start, pause/resume): planned from `targets`, resolved at its start when aimed at
 * the leader, its events recording the nodes hit.
 */
export function nodePrimitiveFault<const Name extends string>(o: {
  name: Name;
  capability: Capability;
  start(cluster: Cluster, node: NodeId): Promise<void>;
  stop(cluster: Cluster, node: NodeId): Promise<void>;
  events: { open: string; close: string };
  style: { label: string; colour: string };
}) {
  return defineFaultKind({
    name: o.name,
    settings: { targets: targetsSetting },
    fault: { target: z.enum(TARGETS), nodes: z.array(z.string()) },
    needsWith: targetsNeed,
    capabilities: () => [o.capability],
    plan(s, nodes, rng) {
      const target = rng.pick(s.targets);
      return { target, nodes: targetNodes(target, nodes, rng) };
    },
    describe: (f) => `${o.name} ${nodesText(f)}`,
    resolve: async (f, context) => ({ ...f, nodes: await startNodes(f, context) }),
    start: (f) => ({ value: f.nodes, act: (c) => onEachNode(f.nodes, (n) => o.start(c, n)) }),
    stop: (f) => ({ value: f.nodes, act: (c) => onEachNode(f.nodes, (n) => o.stop(c, n)) }),
    events: o.events,
    style: o.style,
  });
}
