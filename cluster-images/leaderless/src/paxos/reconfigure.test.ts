/**
 * Acceptor-set changes (reconfigure.ts): the plans' shapes, the quorum arithmetic, and the
 * proposer following a configuration. The simulator that runs whole changes under faults and
 * judges the histories with faultline's linearizability checker is
 * `test/reconfigure-sim.test.ts` (a store source may not import the checker, even in a test).
 */
import { describe, expect, it } from 'vitest';
import type { PaxosReply, PaxosRequest } from '../replica/types.js';
import { changes, Proposer } from './proposer.js';
import { type AcceptorConfig, compatible, majorityConfig, quorumsMeet } from './quorums.js';
import { ProposerConfiguration, planAdd, planRemove } from './reconfigure.js';

const ids = (n: number, from = 1): string[] => Array.from({ length: n }, (_, i) => `a${i + from}`);

describe('reconfiguration plans', () => {
  it('add 2F+1 → 2F+2: widen accept (F+2 of the new set), rewrite, widen prepare', () => {
    const plan = planAdd(ids(3), 'a4');
    expect(plan.steps.map((s) => (s.kind === 'install' ? s.name : s.kind))).toEqual([
      'widen-accept',
      'rewrite',
      'widen-prepare',
    ]);
    const [widen, rewrite, prepare] = plan.steps;
    expect(widen?.config).toEqual({
      prepare: { acceptors: ids(3), quorum: 2 },
      accept: { acceptors: ids(4), quorum: 3 },
    });
    expect(rewrite?.config).toEqual(widen?.config); // the rewrite runs under the widened accepts
    expect(prepare?.config).toEqual(majorityConfig(ids(4)));
    expect(plan.to).toEqual(majorityConfig(ids(4)));
    expect(plan.retire).toEqual([]);
  });

  it('add 2F+2 → 2F+3: one step to majorities of the new set', () => {
    const plan = planAdd(ids(4), 'a5');
    expect(plan.steps).toEqual([
      { kind: 'install', name: 'widen-both', config: majorityConfig(ids(5)) },
    ]);
  });

  it('remove 2F+2 → 2F+1: narrow prepare, rewrite, narrow accept; then retire', () => {
    const plan = planRemove(ids(4), 'a2');
    const rest = ['a1', 'a3', 'a4'];
    expect(plan.steps).toEqual([
      {
        kind: 'install',
        name: 'narrow-prepare',
        config: {
          prepare: { acceptors: rest, quorum: 2 },
          accept: { acceptors: ids(4), quorum: 3 },
        },
      },
      {
        kind: 'rewrite',
        config: {
          prepare: { acceptors: rest, quorum: 2 },
          accept: { acceptors: ids(4), quorum: 3 },
        },
      },
      { kind: 'install', name: 'narrow-accept', config: majorityConfig(rest) },
    ]);
    expect(plan.retire).toEqual(['a2']);
  });

  it('remove 2F+3 → 2F+2: majorities of the rest, then rewrite', () => {
    const plan = planRemove(ids(5), 'a1');
    expect(plan.steps).toEqual([
      { kind: 'install', name: 'narrow-both', config: majorityConfig(ids(4, 2)) },
      { kind: 'rewrite', config: majorityConfig(ids(4, 2)) },
    ]);
  });

  it('every step of every plan up to 9 acceptors is compatible with the one before', () => {
    for (let n = 1; n <= 9; n++) {
      const plans = [planAdd(ids(n), 'new'), ...(n >= 2 ? [planRemove(ids(n), 'a1')] : [])];
      for (const plan of plans) {
        let prev = plan.from;
        for (const s of plan.steps) {
          expect(compatible(prev, s.config)).toBe(true);
          prev = s.config;
        }
        expect(plan.to).toEqual(
          majorityConfig(plan.change.kind === 'add' ? [...ids(n), 'new'] : ids(n - 1, 2)),
        );
      }
    }
    // the unsafe variant only leaves out the rewrites
    const unsafe = planAdd(ids(3), 'a4', { unsafeSkipRewrite: true });
    expect(unsafe.steps.map((s) => s.kind)).toEqual(['install', 'install']);
    expect(planRemove(ids(5), 'a5', { unsafeSkipRewrite: true }).steps.length).toBe(1);
  });

  it('quorum arithmetic recognises unsafe mixes', () => {
    const old = majorityConfig(ids(3));
    // counting the empty new acceptor in prepare quorums of F+1 before accepts were widened:
    // {a3, a4} and {a1, a2} are disjoint
    const prepareFirst: AcceptorConfig = {
      prepare: { acceptors: ids(4), quorum: 2 },
      accept: { acceptors: ids(3), quorum: 2 },
    };
    expect(quorumsMeet(prepareFirst.prepare, prepareFirst.accept)).toBe(false);
    expect(compatible(old, prepareFirst)).toBe(false);
    // the paper's "flexible quorums" example: 4 acceptors, prepare 2, accept 3
    expect(quorumsMeet({ acceptors: ids(4), quorum: 2 }, { acceptors: ids(4), quorum: 3 })).toBe(
      true,
    );
    expect(quorumsMeet({ acceptors: ids(4), quorum: 2 }, { acceptors: ids(4), quorum: 2 })).toBe(
      false,
    );
    // jumping from 3 straight to majorities of 5 is not compatible
    expect(compatible(old, majorityConfig(ids(5)))).toBe(false);
  });

  it('refuses impossible changes', () => {
    expect(() => planAdd(ids(3), 'a2')).toThrow(/already/);
    expect(() => planRemove(ids(3), 'a9')).toThrow(/not an acceptor/);
    expect(() => planRemove(ids(1), 'a1')).toThrow(/last/);
  });
});

describe('proposer with a configuration', () => {
  it('sends each phase to its own acceptors and counts its own quorum', async () => {
    const sent: string[] = [];
    const send = async (node: string, msg: PaxosRequest): Promise<PaxosReply> => {
      sent.push(`${msg.t}:${node}`);
      if (node === 'a4') return new Promise(() => {}); // never answers
      return msg.t === 'prepare' ? { ok: true, accepted: null } : { ok: true };
    };
    const slot = new ProposerConfiguration(planAdd(ids(3), 'a4').steps[0]!.config);
    const p = new Proposer('p', { incarnation: 'x' });
    const r = await p.propose('k', changes.write(1), {
      acceptors: [],
      send,
      timeoutMs: 1000,
      configuration: () => slot.current,
    });
    expect(r).toEqual({ ok: true, value: 1, applied: true });
    expect(sent.sort()).toEqual(
      [
        'prepare:a1',
        'prepare:a2',
        'prepare:a3',
        'accept:a1',
        'accept:a2',
        'accept:a3',
        'accept:a4',
      ].sort(),
    );
    // accepts need 3 of 4: with a4 silent and a3 refusing, the write cannot complete
    const refusing = async (node: string, msg: PaxosRequest): Promise<PaxosReply> => {
      if (node === 'a4') return new Promise(() => {});
      if (node === 'a3' && msg.t === 'accept') return { ok: false, promised: { n: 99, node: 'z' } };
      return msg.t === 'prepare' ? { ok: true, accepted: null } : { ok: true };
    };
    const q = await new Proposer('q', { incarnation: 'y', roundTimeoutMs: 5 }).propose(
      'k',
      changes.write(2),
      { acceptors: [], send: refusing, timeoutMs: 30, configuration: () => slot.current },
    );
    expect(q.ok).toBe(false);
  });
});
