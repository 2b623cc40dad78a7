/**
 * Property test: judging keys among their owners, against a brute-force reference. Random
 * final rounds over five nodes: per key, each node lists the key or not, with any subset of
 * the acknowledged elements, naming owners (usually one ring view, sometimes another) or, for
 * some keys, none at all. The reference judges a key on the union of the owners named (on every
 * node when none are), an unlisted key being empty; the convergence and set-full checkers must
 * find exactly its divergent keys and lost elements.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkConvergence } from './convergence.js';
import { checkSetFull } from './set-full.js';
import { HistoryBuilder } from './testing/replicated-history.js';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const KEYS = ['s0', 's1', 's2'];
const ELEMENTS = [0, 1, 2, 3];

const ownerSet = fc.subarray(NODES, { minLength: 1, maxLength: 3 });
const listing = fc.record({
  listed: fc.boolean(),
  elements: fc.subarray(ELEMENTS),
  /** Names the key's usual owners, or (a differing ring view) another set. */
  otherView: fc.option(ownerSet, { freq: 6 }),
});
const keyScenario = fc.record({
  named: fc.boolean(),
  owners: ownerSet,
  nodes: fc.array(listing, { minLength: NODES.length, maxLength: NODES.length }),
});
const scenario = fc.array(keyScenario, { minLength: KEYS.length, maxLength: KEYS.length });

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function history(s: Scenario) {
  const b = new HistoryBuilder();
  let t = 0;
  KEYS.forEach((key, k) => {
    for (const e of ELEMENTS) b.op({ process: k, f: 'add', key, value: e, at: t, end: ++t });
  });
  b.nemesis('heal-all-stop', 1000);
  const byNode: Record<string, Record<string, unknown>> = {};
  NODES.forEach((node, i) => {
    const keys: Record<string, unknown> = {};
    s.forEach((ks, k) => {
      const l = ks.nodes[i]!;
      if (!l.listed) return;
      const state: Record<string, unknown> = { elements: l.elements };
      if (ks.named) state.owners = l.otherView ?? ks.owners;
      keys[KEYS[k]!] = state;
    });
    byNode[node] = keys;
  });
  b.round(0, 1100, 1110, byNode);
  return b.build();
}

/** The rule, spelled out: judged nodes, their states (unlisted: empty), agreement and losses. */
function reference(s: Scenario) {
  const divergent: string[] = [];
  const lost: string[] = [];
  s.forEach((ks, k) => {
    const key = KEYS[k]!;
    const judged = new Set<string>();
    ks.nodes.forEach((l) => {
      if (ks.named && l.listed) for (const o of l.otherView ?? ks.owners) judged.add(o);
    });
    if (judged.size === 0) for (const n of NODES) judged.add(n);
    const states = NODES.filter((n) => judged.has(n)).map((n) => {
      const l = ks.nodes[NODES.indexOf(n)]!;
      return l.listed ? [...l.elements].sort().join(',') : '';
    });
    if (states.some((x) => x !== states[0])) divergent.push(key);
    for (const e of ELEMENTS) {
      if (!states.some((x) => x.split(',').includes(String(e)))) lost.push(`${key}:${e}`);
    }
  });
  return { divergent, lost };
}

describe('judging each key among its owners', () => {
  it('convergence and set-full find what the brute-force reference finds', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const h = history(s);
        const want = reference(s);
        const c = checkConvergence(h, { type: 'set' });
        expect(c.divergent.map((d) => d.key).sort()).toEqual(want.divergent);
        expect(c.lost.map((l) => `${l.key}:${String(l.value)}`).sort()).toEqual(want.lost);
        const f = checkSetFull(h);
        expect(f.lost.map((l) => `${l.key}:${String(l.element)}`).sort()).toEqual(want.lost);
        expect(c.valid).toBe(want.divergent.length === 0 && want.lost.length === 0);
      }),
      { numRuns: 300 },
    );
  });
});
