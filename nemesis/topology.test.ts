import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Grudge, NodeId } from '../core/cluster.js';
import { Rng } from '../core/random.js';
import {
  bridge,
  customGrudge,
  halves,
  isolateOne,
  majoritiesRing,
  majority,
  partitionGrudge,
  randomHalves,
} from './topology.js';

const nodeLists = (min = 1, max = 9) =>
  fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,3}$/), { minLength: min, maxLength: max });
const seeds = fc.integer();

/** Whether a drops traffic from b. */
const drops = (g: Grudge, a: NodeId, b: NodeId) => (g[a] ?? []).includes(b);
/** Who a hears (itself included): the brute-force view of a grudge. */
const view = (g: Grudge, nodes: readonly NodeId[], a: NodeId) =>
  nodes.filter((b) => !drops(g, a, b));
const symmetric = (g: Grudge, nodes: readonly NodeId[]) =>
  nodes.every((a) => nodes.every((b) => drops(g, a, b) === drops(g, b, a)));

/** Well-formed: only known nodes, nobody drops itself, lists in node order without repeats. */
function wellFormed(g: Grudge, nodes: readonly NodeId[]): void {
  for (const [a, list] of Object.entries(g)) {
    expect(nodes).toContain(a);
    expect(list.length).toBeGreaterThan(0);
    expect(list).not.toContain(a);
    expect(list).toEqual(nodes.filter((n) => list.includes(n)));
  }
}

/** The grudge cuts exactly between the two sides (both ways) and nowhere else. */
function cutsExactly(g: Grudge, nodes: readonly NodeId[], side: (n: NodeId) => 0 | 1): void {
  for (const a of nodes) {
    for (const b of nodes) expect(drops(g, a, b)).toBe(side(a) !== side(b));
  }
}

describe('partition topologies', () => {
  it('halves: the first ⌊n/2⌋ nodes against the rest, every cross pair cut both ways', () => {
    fc.assert(
      fc.property(nodeLists(), (nodes) => {
        const g = halves(nodes);
        wellFormed(g, nodes);
        const k = Math.floor(nodes.length / 2);
        cutsExactly(g, nodes, (n) => (nodes.indexOf(n) < k ? 0 : 1));
      }),
    );
  });

  it('random-halves: two sides of sizes ⌊n/2⌋ and ⌈n/2⌉, cut exactly, symmetric', () => {
    fc.assert(
      fc.property(nodeLists(2), seeds, (nodes, seed) => {
        const g = randomHalves(nodes, new Rng(seed));
        wellFormed(g, nodes);
        const first = nodes[0] as NodeId;
        const mine = new Set(view(g, nodes, first));
        cutsExactly(g, nodes, (n) => (mine.has(n) ? 0 : 1));
        const sizes = [mine.size, nodes.length - mine.size].sort((x, y) => x - y);
        expect(sizes).toEqual([Math.floor(nodes.length / 2), Math.ceil(nodes.length / 2)]);
      }),
    );
  });

  it('isolate-one: one node drops all others and all others drop only it', () => {
    fc.assert(
      fc.property(nodeLists(3), seeds, (nodes, seed) => {
        const g = isolateOne(nodes, new Rng(seed));
        wellFormed(g, nodes);
        const lone = nodes.filter((n) => view(g, nodes, n).length === 1);
        expect(lone).toHaveLength(1);
        cutsExactly(g, nodes, (n) => (n === lone[0] ? 0 : 1));
      }),
    );
  });

  it('bridge: one node hears everyone and is heard by everyone; the others form two cut halves', () => {
    fc.assert(
      fc.property(nodeLists(3), seeds, (nodes, seed) => {
        const g = bridge(nodes, new Rng(seed));
        wellFormed(g, nodes);
        expect(symmetric(g, nodes)).toBe(true);
        const bridges = nodes.filter((n) => view(g, nodes, n).length === nodes.length);
        expect(bridges).toHaveLength(1);
        const b = bridges[0] as NodeId;
        const rest = nodes.filter((n) => n !== b);
        const sideA = new Set(view(g, rest, rest[0] as NodeId));
        for (const x of rest) {
          for (const y of rest) expect(drops(g, x, y)).toBe(sideA.has(x) !== sideA.has(y));
        }
        const sizes = [sideA.size, rest.length - sideA.size].sort((x, y) => x - y);
        expect(sizes).toEqual([Math.floor(rest.length / 2), Math.ceil(rest.length / 2)]);
      }),
    );
  });

  it('majorities-ring: every node hears a majority, nobody hears everyone, views differ', () => {
    fc.assert(
      fc.property(nodeLists(3), seeds, (nodes, seed) => {
        const g = majoritiesRing(nodes, new Rng(seed));
        wellFormed(g, nodes);
        const views = nodes.map((n) => view(g, nodes, n));
        for (const [i, v] of views.entries()) {
          expect(v).toContain(nodes[i]);
          expect(v.length).toBeGreaterThanOrEqual(majority(nodes.length));
          expect(v.length).toBeLessThan(nodes.length);
        }
        expect(new Set(views.map((v) => v.join(','))).size).toBe(nodes.length);
        if (nodes.length >= 4) expect(symmetric(g, nodes)).toBe(true);
      }),
    );
  });

  it('majorities-ring on five nodes: each hears exactly its two ring neighbours', () => {
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const g = majoritiesRing(nodes, new Rng(3));
    // Rebuild the ring from the grudge: every node hears exactly two others, and following
    // "hears" walks one cycle through all five.
    const hearsOthers = (n: NodeId) => view(g, nodes, n).filter((m) => m !== n);
    for (const n of nodes) expect(hearsOthers(n)).toHaveLength(2);
    const seen = ['n1'];
    let prev = 'n1';
    let cur = hearsOthers('n1')[0] as NodeId;
    while (cur !== 'n1') {
      seen.push(cur);
      const next = hearsOthers(cur).find((m) => m !== prev) as NodeId;
      prev = cur;
      cur = next;
    }
    expect(seen.sort()).toEqual(nodes);
  });

  it('too few nodes for a topology give no partition', () => {
    const rng = new Rng(1);
    expect(majoritiesRing(['a', 'b'], rng)).toEqual({});
    expect(bridge(['a', 'b'], rng)).toEqual({});
    expect(isolateOne(['a'], rng)).toEqual({});
    expect(halves(['a'])).toEqual({});
    expect(isolateOne(['a', 'b'], rng)).toEqual({ a: ['b'], b: ['a'] });
  });

  it('custom: normalized, and unknown nodes refused by name', () => {
    const nodes = ['n1', 'n2', 'n3'];
    expect(customGrudge(nodes, { n3: ['n2', 'n1', 'n3', 'n1'], n1: [] })).toEqual({
      n3: ['n1', 'n2'],
    });
    expect(() => customGrudge(nodes, { n9: ['n1'] })).toThrow(/"n9"/);
    expect(() => customGrudge(nodes, { n1: ['x'] })).toThrow(/grudge\[n1\].*"x"/);
    expect(partitionGrudge('custom', nodes, new Rng(1), { n2: ['n1'] })).toEqual({ n2: ['n1'] });
  });

  it('the same seed gives the same grudge', () => {
    fc.assert(
      fc.property(nodeLists(3), seeds, (nodes, seed) => {
        for (const t of ['random-halves', 'isolate-one', 'majorities-ring', 'bridge'] as const) {
          expect(partitionGrudge(t, nodes, new Rng(seed))).toEqual(
            partitionGrudge(t, nodes, new Rng(seed)),
          );
        }
      }),
    );
  });
});
