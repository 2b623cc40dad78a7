import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../checker/history/event.js';
import type { Client, Op } from '../core/client.js';
import { ErrorRegistry } from '../core/client.js';
import type { EventInput } from '../core/event.js';
import { agreement, canonicalState, finalReplicaReads } from './final-replica-reads.js';
import type { EventSink } from './interpreter.js';

/** Records events in an array, with a clock the test controls (ns). */
function arraySink() {
  const events: HistoryEvent[] = [];
  const t0 = performance.now();
  const sink: EventSink = {
    now: () => Math.round((performance.now() - t0) * 1e6),
    record(input: EventInput) {
      const e = { ...input, index: events.length, time: sink.now() } as HistoryEvent;
      events.push(e);
      return e;
    },
  };
  return { events, sink };
}

/**
 * A fake cluster of replicas: node → key → state, changed by the test between rounds through
 * `onRound` (round number → what each node holds from then on). `failing` nodes throw.
 */
function fakeReplicas(
  script: (round: number) => Record<string, Record<string, unknown>>,
  failing: (node: string, round: number) => 'fail' | 'info' | undefined = () => undefined,
) {
  const reads: Array<{ node: string; round: number }> = [];
  const client = (node: string): Client<Op> => ({
    async invoke(op) {
      const { round } = op.value as { round: number };
      reads.push({ node, round });
      const how = failing(node, round);
      if (how !== undefined) throw Object.assign(new Error(`${node} down`), { code: how });
      return { value: { node, round, keys: structuredClone(script(round)[node] ?? {}) } };
    },
    async close() {},
  });
  return { client, reads };
}

const errors = new ErrorRegistry([
  { name: 'refused', type: 'fail', match: (e) => (e as { code?: string }).code === 'fail' },
]);

const base = {
  nodes: ['n1', 'n2', 'n3'],
  errors,
  firstProcess: 100,
  opTimeoutMs: 1000,
  replicasPerKey: 3,
  pauseMs: 1,
};

describe('final replica reads', () => {
  it('polls every node each round until the replicas agree twice in a row, recording each read as an op', async () => {
    const { events, sink } = arraySink();
    // Rounds 1-2: n3 lags on key a; from round 3 on every node holds the same.
    const { client } = fakeReplicas((round) => {
      const good = { a: { elements: [1, 2] }, b: { elements: [3] } };
      return {
        n1: good,
        n2: { b: { elements: [3] }, a: { elements: [2, 1] } }, // same state, other order
        n3: round < 3 ? { a: { elements: [1] }, b: { elements: [3] } } : good,
      };
    });
    const r = await finalReplicaReads({ ...base, client, sink, boundMs: 60_000 });
    expect(r).toEqual({ rounds: 4, converged: true, disagreeing: [] });
    expect(events).toHaveLength(4 * 3 * 2);
    const invokes = events.filter((e) => e.type === 'invoke');
    expect(invokes.every((e) => e.f === 'replica-read')).toBe(true);
    expect(invokes.map((e) => (e.value as { round: number }).round)).toEqual([
      1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4,
    ]);
    const ok = events.find((e) => e.type === 'ok' && e.node === 'n3')!;
    expect(ok).toMatchObject({
      process: 102,
      f: 'replica-read',
      value: { node: 'n3', round: 1, keys: { a: { elements: [1] } } },
    });
    // One process per node; each completion follows its invoke on the same process.
    for (const p of [100, 101, 102]) {
      const types = events.filter((e) => e.process === p).map((e) => e.type);
      expect(types).toEqual(['invoke', 'ok', 'invoke', 'ok', 'invoke', 'ok', 'invoke', 'ok']);
    }
  });

  it('stops at the bound when the replicas keep disagreeing, naming the keys', async () => {
    const { sink } = arraySink();
    const { client, reads } = fakeReplicas(() => ({
      n1: { a: { value: 1 } },
      n2: { a: { value: 2 } },
      n3: { a: { value: 1 } },
    }));
    const r = await finalReplicaReads({ ...base, client, sink, boundMs: 50, pauseMs: 5 });
    expect(r.converged).toBe(false);
    expect(r.disagreeing).toEqual(['a']);
    expect(r.rounds).toBeGreaterThanOrEqual(1);
    expect(reads.length).toBe(3 * r.rounds);
  });

  it('a failed read is recorded as fail or info (retiring the process) and never counts as agreement', async () => {
    const { events, sink } = arraySink();
    const same = { a: { value: 5 } };
    const { client } = fakeReplicas(
      () => ({ n1: same, n2: same, n3: same }),
      (node, round) => (node === 'n2' && round <= 2 ? (round === 1 ? 'fail' : 'info') : undefined),
    );
    const r = await finalReplicaReads({ ...base, client, sink, boundMs: 60_000 });
    expect(r).toEqual({ rounds: 4, converged: true, disagreeing: [] });
    const n2 = events.filter(
      (e) => e.type !== 'invoke' && (e.value as { node: string }).node === 'n2',
    );
    expect(n2.map((e) => e.type)).toEqual(['fail', 'info', 'ok', 'ok']);
    // After the info, n2 reads as a fresh process (+ node count).
    expect(n2.map((e) => e.process)).toEqual([101, 101, 104, 104]);
    expect(n2[0]!.error).toMatch(/refused/);
  });

  it('a key held by fewer nodes than replicasPerKey is not converged; states that move are not stable', () => {
    const three = ['n1', 'n2', 'n3'];
    expect(agreement([{ a: 1 }, { a: 1 }, {}], 3, three)).toMatchObject({
      agree: false,
      disagreeing: ['a'],
    });
    expect(agreement([{ a: 1 }, { a: 1 }, {}], 2, three).agree).toBe(true);
    expect(agreement([{ a: 1 }, undefined], 1, three).agree).toBe(false);
    const one = agreement([{ a: { value: 1 } }, { a: { value: 1 } }], 2, three);
    const two = agreement([{ a: { value: 2 } }, { a: { value: 2 } }], 2, three);
    expect(one.agree && two.agree).toBe(true);
    expect(one.fingerprint).not.toBe(two.fingerprint);
  });

  it('with owners named, a key agrees when its owners hold one state, whatever non-owners hold', () => {
    const five = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const owners = ['n1', 'n3', 'n4'];
    const held = { elements: [1, 2], owners };
    const stale = { elements: [1], owners };
    // Held identically by its 3 owners of 5 nodes: agreed (replicasPerKey is not asked).
    expect(agreement([{ s: held }, {}, { s: held }, { s: held }, {}], 5, five).agree).toBe(true);
    // A non-owner's stale copy (a hint, a leftover) is ignored.
    expect(
      agreement([{ s: held }, { s: stale }, { s: held }, { s: held }, {}], 5, five).agree,
    ).toBe(true);
    // An owner that lacks the key, or holds another state, has not caught up.
    expect(agreement([{ s: held }, {}, { s: held }, {}, {}], 3, five)).toMatchObject({
      agree: false,
      disagreeing: ['s'],
    });
    expect(agreement([{ s: held }, {}, { s: stale }, { s: held }, {}], 3, five).agree).toBe(false);
    // Only a hint holder names the key: its owners all lack it, not agreed.
    expect(agreement([{}, { s: held }, {}, {}, {}], 3, five).agree).toBe(false);
    // An owner no node answers for is never caught up.
    const ghost = { elements: [1], owners: ['n1', 'n9'] };
    expect(agreement([{ s: ghost }, {}, {}, {}, {}], 1, five).agree).toBe(false);
    // The fingerprint moves with the owners' states, not with `owners` itself.
    const a = agreement([{ s: held }, {}, { s: held }, { s: held }, {}], 5, five);
    const b = agreement([{ s: stale }, {}, { s: stale }, { s: stale }, {}], 5, five);
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(canonicalState(held)).toBe(canonicalState({ elements: [2, 1] }));
  });

  it('canonical states ignore key order and the order of values and elements, nothing else', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer(), { maxLength: 8 }), fc.nat(), (xs, seed) => {
        const shuffled = [...xs].sort((a, b) => ((a * 31 + seed) % 7) - ((b * 31 + seed) % 7));
        expect(canonicalState({ elements: xs })).toBe(canonicalState({ elements: shuffled }));
        expect(canonicalState({ values: xs, ts: [] })).toBe(
          canonicalState({ ts: [], values: shuffled }),
        );
        if (xs.length > 0) {
          expect(canonicalState({ elements: xs })).not.toBe(
            canonicalState({ elements: xs.slice(1) }),
          );
        }
      }),
    );
    expect(canonicalState({ value: 1 })).not.toBe(canonicalState({ value: 2 }));
  });
});
