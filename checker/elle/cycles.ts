/**
 * Finding explaining cycles. For each anomaly class, the graph is cut down to the edge kinds
 * the class allows and split into strongly connected components; in each, a breadth-first
 * search from every edge of the class's required kind looks for the shortest way back, over
 * (node, what the path holds so far) states, so that the cycle found has exactly the class's
 * shape: G0 all ww; G1c ww and at least one wr; G-single exactly one rw; G-nonadjacent two or
 * more rw, no two in a row (what snapshot isolation forbids); G2-item two or more rw. The
 * -process variant needs a process edge (and no realtime one), -realtime a realtime edge.
 */
import type { CycleBase, CycleSuffix } from './anomalies.js';
import type { EdgeCollector, Graph } from './graph.js';
import { cyclicComponents } from './scc.js';
import { DATA, PROCESS, REALTIME, RW, WR, WW } from './types.js';

export interface CycleStep {
  from: number;
  to: number;
  /** One kind (a single bit). */
  kind: number;
}

export interface FoundCycle {
  anomaly: string;
  steps: CycleStep[];
}

export interface CycleSearch {
  cycles: FoundCycle[];
  /** Anomaly classes whose search ran out of budget in some component without a cycle. */
  timedOut: string[];
}

// Path state bits: a wr seen, the rw count (0, 1, 2 = two or more), process and realtime seen,
// and (for G-nonadjacent only) whether the last edge was an rw.
const S_WR = 1;
const S_RW1 = 2;
const S_RW2 = 4;
const S_PROC = 8;
const S_RT = 16;
const S_LAST_RW = 32;
const STATES = 64;

function step(state: number, kind: number): number {
  if (kind === RW) state |= S_LAST_RW;
  else state &= ~S_LAST_RW;
  switch (kind) {
    case WR:
      return state | S_WR;
    case RW:
      return state & S_RW1 ? (state & ~S_RW1) | S_RW2 : state & S_RW2 ? state : state | S_RW1;
    case PROCESS:
      return state | S_PROC;
    case REALTIME:
      return state | S_RT;
    default:
      return state;
  }
}

interface Target {
  anomaly: string;
  mask: number;
  first: number;
  accept: (s: number) => boolean;
  /** States no cycle of the class passes through. */
  prune: (s: number) => boolean;
  /** Whether two rw edges in a row rule a path out (else the last-edge bit is not kept). */
  adjacency: boolean;
}

function target(base: CycleBase, suffix: CycleSuffix): Target {
  const dataMask = {
    G0: WW,
    G1c: WW | WR,
    'G-single': DATA,
    'G-nonadjacent': DATA,
    'G2-item': DATA,
  }[base];
  const orderMask = { '': 0, '-process': PROCESS, '-realtime': PROCESS | REALTIME }[suffix];
  const first =
    suffix === '-process'
      ? PROCESS
      : suffix === '-realtime'
        ? REALTIME
        : { G0: WW, G1c: WR, 'G-single': RW, 'G-nonadjacent': RW, 'G2-item': RW }[base];
  const dataOk = (s: number): boolean => {
    switch (base) {
      case 'G0':
        return (s & (S_WR | S_RW1 | S_RW2)) === 0;
      case 'G1c':
        return (s & S_WR) !== 0 && (s & (S_RW1 | S_RW2)) === 0;
      case 'G-single':
        return (s & S_RW1) !== 0;
      // Nor may the last edge be an rw when the first is one (a cycle wraps around).
      case 'G-nonadjacent':
        return (s & S_RW2) !== 0 && !(first === RW && (s & S_LAST_RW) !== 0);
      case 'G2-item':
        return (s & S_RW2) !== 0;
    }
  };
  const orderOk = (s: number): boolean =>
    suffix === '' ? true : suffix === '-process' ? (s & S_PROC) !== 0 : (s & S_RT) !== 0;
  return {
    anomaly: `${base}${suffix}`,
    mask: dataMask | orderMask,
    first,
    accept: (s) => dataOk(s) && orderOk(s),
    prune: (s) => base === 'G-single' && (s & S_RW2) !== 0,
    adjacency: base === 'G-nonadjacent',
  };
}

/** Work (edge visits) allowed per class and component before the search gives up. */
export const DEFAULT_SEARCH_BUDGET = 5_000_000;

export interface CycleSearchOptions {
  /** The classes to look for. */
  pairs: readonly { base: CycleBase; suffix: CycleSuffix }[];
  budget?: number;
}

export function findCycles(
  nodes: number,
  edges: EdgeCollector,
  options: CycleSearchOptions,
): CycleSearch {
  const cycles: FoundCycle[] = [];
  const timedOut: string[] = [];
  const budget = options.budget ?? DEFAULT_SEARCH_BUDGET;
  if (options.pairs.length === 0) return { cycles, timedOut };
  const widest = options.pairs.reduce((m, p) => m | target(p.base, p.suffix).mask, 0);
  if (cyclicComponents(edges.build(nodes, widest)).length === 0) return { cycles, timedOut };

  const graphs = new Map<number, Graph>();
  const local = new Int32Array(nodes).fill(-1);
  for (const { base, suffix } of options.pairs) {
    {
      const t = target(base, suffix);
      let g = graphs.get(t.mask);
      if (g === undefined) {
        g = edges.build(nodes, t.mask);
        graphs.set(t.mask, g);
      }
      for (const component of cyclicComponents(g)) {
        component.forEach((v, i) => {
          local[v] = i;
        });
        const r = shortestIn(g, component, local, t, budget);
        for (const v of component) local[v] = -1;
        if (r.steps !== undefined) cycles.push({ anomaly: t.anomaly, steps: r.steps });
        else if (r.exhausted && !timedOut.includes(t.anomaly)) timedOut.push(t.anomaly);
      }
    }
  }
  return { cycles, timedOut };
}

/** The shortest cycle of the target's class in one component (undefined: none, or no budget). */
function shortestIn(
  g: Graph,
  component: readonly number[],
  local: Int32Array,
  t: Target,
  budget: number,
): { steps?: CycleStep[]; exhausted: boolean } {
  const seen = new Int32Array(component.length * STATES);
  let generation = 0;
  let work = 0;
  let best: CycleStep[] | undefined;
  // The BFS's visits: node, state, parent visit, kind of the edge in.
  const vNode: number[] = [];
  const vState: number[] = [];
  const vParent: number[] = [];
  const vKind: number[] = [];

  for (const a of component) {
    for (let e = g.offsets[a]!; e < g.offsets[a + 1]!; e++) {
      if ((g.kinds[e]! & t.first) === 0) continue;
      const b = g.targets[e]!;
      if (local[b]! < 0) continue;
      if (best !== undefined && best.length <= 2) return { steps: best, exhausted: false };
      if (work >= budget)
        return { ...(best ? { steps: best } : {}), exhausted: best === undefined };
      generation += 1;
      vNode.length = vState.length = vParent.length = vKind.length = 0;
      const s0 = t.adjacency ? step(0, t.first) : step(0, t.first) & ~S_LAST_RW;
      vNode.push(b);
      vState.push(s0);
      vParent.push(-1);
      vKind.push(t.first);
      seen[local[b]! * STATES + s0] = generation;
      // Paths longer than the best cycle so far are not worth following.
      const maxLen = best === undefined ? Number.POSITIVE_INFINITY : best.length - 1;
      let head = 0;
      let levelEnd = 1;
      let depth = 1;
      let found = -1;
      let foundKind = 0;
      const onPath = (node: number, visit: number): boolean => {
        for (let i = visit; i >= 0; i = vParent[i]!) if (vNode[i] === node) return true;
        return false;
      };
      while (head < vNode.length && found < 0 && depth < maxLen) {
        const v = vNode[head]!;
        const s = vState[head]!;
        for (let f = g.offsets[v]!; f < g.offsets[v + 1]! && found < 0; f++) {
          work += 1;
          const w = g.targets[f]!;
          const lw = local[w]!;
          if (lw < 0) continue;
          let kinds = g.kinds[f]!;
          while (kinds !== 0) {
            const kind = kinds & -kinds;
            kinds &= kinds - 1;
            if (t.adjacency && kind === RW && (s & S_LAST_RW) !== 0) continue;
            const s2 = t.adjacency ? step(s, kind) : step(s, kind) & ~S_LAST_RW;
            if (t.prune(s2)) continue;
            if (w === a) {
              if (t.accept(s2)) {
                found = head;
                foundKind = kind;
                break;
              }
              continue;
            }
            if (seen[lw * STATES + s2] === generation) continue;
            // A node met again in another state would make a closed walk, not a cycle, whose
            // edge counts (an rw taken twice) could name a class the history does not show.
            if (onPath(w, head)) continue;
            seen[lw * STATES + s2] = generation;
            vNode.push(w);
            vState.push(s2);
            vParent.push(head);
            vKind.push(kind);
          }
        }
        head += 1;
        if (head === levelEnd) {
          levelEnd = vNode.length;
          depth += 1;
        }
      }
      if (found < 0) continue;
      const steps: CycleStep[] = [{ from: vNode[found]!, to: a, kind: foundKind }];
      for (let i = found; vParent[i]! >= 0; i = vParent[i]!) {
        steps.push({ from: vNode[vParent[i]!]!, to: vNode[i]!, kind: vKind[i]! });
      }
      steps.push({ from: a, to: b, kind: t.first });
      steps.reverse();
      if (best === undefined || steps.length < best.length) best = steps;
    }
  }
  return { ...(best ? { steps: best } : {}), exhausted: false };
}
