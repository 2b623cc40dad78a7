import type { Grudge, NodeId } from '../core/cluster.js';
import type { Rng } from '../core/random.js';

export const TOPOLOGIES = [
  'halves',
  'random-halves',
  'isolate-one',
  'majorities-ring',
  'bridge',
  'custom',
  'isolate-leader',
] as const;
export type Topology = (typeof TOPOLOGIES)[number];
/**
 * The default topologies: all but `custom` (needs a grudge) and `isolate-leader` (needs a system
 * that says who leads; its grudge is known only when the fault starts: `isolateNode`).
 */
export const BUILTIN_TOPOLOGIES: readonly Topology[] = TOPOLOGIES.filter(
  (t) => t !== 'custom' && t !== 'isolate-leader',
);

/**
 * Partition topologies as grudges: `grudge[a]` lists the nodes a drops traffic FROM. Every
 * topology here cuts symmetrically (a drops b exactly when b drops a), except majorities-ring
 * on three nodes, which cannot be symmetric (see there). Grudges are normalized: keys and
 * lists in node order, no node listing itself, no empty lists.
 */

/** The grudge in which each group only hears its own members (a node in several groups hears all of them). */
export function groupsGrudge(
  nodes: readonly NodeId[],
  groups: readonly (readonly NodeId[])[],
): Grudge {
  const hears = new Map<NodeId, Set<NodeId>>();
  for (const n of nodes) hears.set(n, new Set([n]));
  for (const g of groups) for (const a of g) for (const b of g) hears.get(a)?.add(b);
  const grudge: Grudge = {};
  for (const a of nodes) {
    const drop = nodes.filter((b) => !hears.get(a)?.has(b));
    if (drop.length > 0) grudge[a] = drop;
  }
  return grudge;
}

export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** First ⌊n/2⌋ nodes against the rest, in the given order. */
export function halves(nodes: readonly NodeId[]): Grudge {
  const k = Math.floor(nodes.length / 2);
  return groupsGrudge(nodes, [nodes.slice(0, k), nodes.slice(k)]);
}

export function randomHalves(nodes: readonly NodeId[], rng: Rng): Grudge {
  return normalize(nodes, halves(rng.shuffle(nodes)));
}

/** One random node cut off from all others, both ways. */
export function isolateOne(nodes: readonly NodeId[], rng: Rng): Grudge {
  if (nodes.length < 2) return {};
  return isolateNode(nodes, rng.pick(nodes));
}

/** `lone` cut off from all others, both ways (isolate-leader: the leader, at the fault's start). */
export function isolateNode(nodes: readonly NodeId[], lone: NodeId): Grudge {
  if (nodes.length < 2) return {};
  return groupsGrudge(nodes, [[lone], nodes.filter((n) => n !== lone)]);
}

/**
 * Two halves joined by one node that belongs to both: the bridge hears everyone, the halves
 * don't hear each other. Needs three nodes; fewer gives no partition.
 */
export function bridge(nodes: readonly NodeId[], rng: Rng): Grudge {
  if (nodes.length < 3) return {};
  const order = rng.shuffle(nodes);
  const middle = order[0] as NodeId;
  const rest = order.slice(1);
  const k = Math.floor(rest.length / 2);
  return groupsGrudge(nodes, [
    [middle, ...rest.slice(0, k)],
    [middle, ...rest.slice(k)],
  ]);
}

/**
 * Every node hears a majority (itself included), and the majorities overlap like a ring: nodes
 * are placed on a ring in random order and each hears its neighbours within distance k, the
 * smallest k with 2k+1 >= majority. Ring distance is symmetric, so the cut is too. When that
 * window would cover the whole ring while a majority is smaller (three nodes), each node hears
 * itself and the next majority-1 nodes clockwise instead (one-way cuts). Fewer than three
 * nodes: no node can miss anyone and still hear a majority, so the grudge is empty.
 */
export function majoritiesRing(nodes: readonly NodeId[], rng: Rng): Grudge {
  const n = nodes.length;
  if (n < 3) return {};
  const m = majority(n);
  const ring = rng.shuffle(nodes);
  const k = Math.ceil((m - 1) / 2);
  const hears = new Map<NodeId, Set<NodeId>>();
  ring.forEach((node, i) => {
    const set = new Set<NodeId>();
    if (2 * k + 1 < n) {
      for (let d = -k; d <= k; d++) set.add(ring[(i + d + n) % n] as NodeId);
    } else {
      for (let d = 0; d < m; d++) set.add(ring[(i + d) % n] as NodeId);
    }
    hears.set(node, set);
  });
  const grudge: Grudge = {};
  for (const a of nodes) {
    const drop = nodes.filter((b) => !hears.get(a)?.has(b));
    if (drop.length > 0) grudge[a] = drop;
  }
  return grudge;
}

/** A given grudge, checked against the node list and normalized. */
export function customGrudge(nodes: readonly NodeId[], grudge: Grudge): Grudge {
  for (const [a, dropped] of Object.entries(grudge)) {
    if (!nodes.includes(a)) {
      throw new Error(
        `custom grudge: unknown node ${JSON.stringify(a)} (nodes: ${nodes.join(', ')})`,
      );
    }
    for (const b of dropped) {
      if (!nodes.includes(b)) {
        throw new Error(
          `custom grudge[${a}]: unknown node ${JSON.stringify(b)} (nodes: ${nodes.join(', ')})`,
        );
      }
    }
  }
  return normalize(nodes, grudge);
}

/** Keys and lists in node order, no self, no duplicates, no empty lists. */
export function normalize(nodes: readonly NodeId[], grudge: Grudge): Grudge {
  const out: Grudge = {};
  for (const a of nodes) {
    const set = new Set(grudge[a] ?? []);
    const drop = nodes.filter((b) => b !== a && set.has(b));
    if (drop.length > 0) out[a] = drop;
  }
  return out;
}

export function partitionGrudge(
  topology: Topology,
  nodes: readonly NodeId[],
  rng: Rng,
  custom?: Grudge,
): Grudge {
  switch (topology) {
    case 'halves':
      return halves(nodes);
    case 'random-halves':
      return randomHalves(nodes, rng);
    case 'isolate-one':
      return isolateOne(nodes, rng);
    case 'majorities-ring':
      return majoritiesRing(nodes, rng);
    case 'bridge':
      return bridge(nodes, rng);
    case 'custom':
      if (custom === undefined) throw new Error('the custom topology needs a grudge');
      return customGrudge(nodes, custom);
    case 'isolate-leader':
      // Known only when the fault starts (the partition kind's resolve): nothing is drawn.
      return {};
  }
}
