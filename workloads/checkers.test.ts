import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { availability, statsChecker } from './checkers.js';

const nemesis = (time: number, f: string): HistoryEvent => ({
  index: 0,
  time,
  process: 'nemesis',
  type: 'info',
  f,
});

const op = (
  call: number,
  status: ClientOp['status'],
  f = 'read',
  completion: Record<string, unknown> = {},
): ClientOp => ({
  process: 0,
  f,
  status,
  invoke: { index: 0, time: call, process: 0, type: 'invoke', f },
  ...(status === 'pending'
    ? {}
    : { completion: { index: 1, time: call + 1, process: 0, type: status, f, ...completion } }),
  call,
  return: status === 'ok' || status === 'fail' ? call + 1 : Number.POSITIVE_INFINITY,
});

/** A fail the client's error rules marked as refused for want of nodes (ECONNREFUSED, 412). */
const refused = (call: number, f = 'read') =>
  op(call, 'fail', f, { error: 'connection refused: ECONNREFUSED', unavailable: true });
/** A cas whose precondition did not hold: a definite answer. */
const casNo = (call: number) => op(call, 'fail', 'cas', { error: 'cas precondition failed: 409' });

describe('stats: availability during faults vs outside', () => {
  it('splits ops by whether a fault was in effect at their invoke; ignores the final phase', () => {
    const events = [
      nemesis(10, 'partition-start'),
      nemesis(20, 'partition-stop'),
      nemesis(30, 'kill'),
      nemesis(35, 'pause'),
      nemesis(40, 'start'),
      nemesis(45, 'resume'),
      nemesis(60, 'heal-all-start'),
      nemesis(61, 'heal-all-stop'),
    ];
    const ops = [
      op(5, 'ok'), // outside
      refused(10), // during (partition from 10)
      op(19, 'info'), // during
      op(20, 'ok'), // outside (the partition ended at 20)
      op(42, 'ok'), // during (pause until 45)
      op(50, 'ok'), // outside
      op(70, 'ok'), // final phase: left out
      op(55, 'ok', 'replica-read'), // replica reads: left out
    ];
    expect(availability(events, ops)).toEqual({
      duringFaults: { ops: 3, ok: 1, answered: 1, fraction: 1 / 3 },
      outsideFaults: { ops: 3, ok: 3, answered: 3, fraction: 1 },
    });
  });

  it('a cas refused by its precondition is an answer: no faults, every op answered', () => {
    const ops = [op(1, 'ok', 'write'), casNo(2), op(3, 'ok', 'cas'), casNo(4), op(5, 'ok')];
    expect(availability([], ops)).toEqual({
      duringFaults: { ops: 0, ok: 0, answered: 0, fraction: null },
      outsideFaults: { ops: 5, ok: 3, answered: 5, fraction: 1 },
    });
  });

  it('info, pending and refused ops in a fault window are not answered; a cas refusal is', () => {
    const events = [nemesis(10, 'kill'), nemesis(50, 'start')];
    const ops = [
      op(11, 'info', 'write'),
      op(12, 'pending', 'write'),
      refused(13),
      casNo(14),
      op(15, 'ok'),
      op(60, 'info'), // outside: unknown outcomes count against the no-fault side too
      op(61, 'ok'),
    ];
    expect(availability(events, ops)).toEqual({
      duringFaults: { ops: 5, ok: 1, answered: 2, fraction: 2 / 5 },
      outsideFaults: { ops: 2, ok: 1, answered: 1, fraction: 1 / 2 },
    });
  });

  it('agrees with a per-op scan of the fault intervals (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.nat(1000), fc.nat(200), fc.constantFrom('partition', 'pause', 'link')),
          {
            maxLength: 8,
          },
        ),
        fc.array(
          fc.tuple(
            fc.nat(1300),
            fc.constantFrom('ok', 'fail', 'info') as fc.Arbitrary<ClientOp['status']>,
            fc.boolean(),
          ),
          {
            maxLength: 60,
          },
        ),
        (faults, calls) => {
          // One kind per fault, non-overlapping per kind is not required: the oracle uses the
          // same open/close pairing (a start while open is ignored; the first stop closes).
          const events = faults
            .flatMap(([s, d, k], i) => [
              { t: s, f: `${k}${i}-start` },
              { t: s + d, f: `${k}${i}-stop` },
            ])
            .sort((a, b) => a.t - b.t)
            .map((e) => nemesis(e.t, e.f));
          const ops = calls.map(([c, s, down]) =>
            s === 'fail' && down ? refused(c) : s === 'fail' ? casNo(c) : op(c, s),
          );
          const inFault = (t: number) => faults.some(([s, d]) => t >= s && t < s + d);
          const expected = {
            during: { ops: 0, ok: 0, answered: 0 },
            outside: { ops: 0, ok: 0, answered: 0 },
          };
          calls.forEach(([c, s, down]) => {
            const b = inFault(c) ? expected.during : expected.outside;
            b.ops++;
            if (s === 'ok') b.ok++;
            if (s === 'ok' || (s === 'fail' && !down)) b.answered++;
          });
          const got = availability(events, ops);
          expect(got.duringFaults).toMatchObject(expected.during);
          expect(got.outsideFaults).toMatchObject(expected.outside);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is part of the stats checker result, which stays valid', async () => {
    const { result } = await statsChecker.check({ events: [], ops: [op(1, 'ok'), op(2, 'info')] });
    expect(result).toMatchObject({
      valid: true,
      ok: 1,
      info: 1,
      availability: { outsideFaults: { ops: 2, ok: 1, fraction: 0.5 } },
    });
  });
});

describe('stats: failover times per fault', () => {
  it('reports each fault of the run’s own kinds with its two recovery times', async () => {
    const styles = [
      { kind: 'crash', label: 'crash', open: 'wipe-disk', close: 'restore-disk', colour: '#f00' },
    ];
    const events = [
      { ...nemesis(1000, 'wipe-disk'), value: ['n2'] },
      nemesis(5000, 'restore-disk'),
      nemesis(9000, 'heal-all-start'),
    ];
    // op(call, ok) completes 1 ns after its invoke: recovered 1000 ns after the start, 2001 after the end.
    const ops = [op(900, 'ok'), op(2000, 'ok'), op(7000, 'ok'), op(9500, 'ok')];
    const { result } = await statsChecker.check({ events, ops, faultStyles: styles });
    expect(result.failover).toEqual([
      {
        kind: 'crash',
        label: 'wipe-disk',
        nodes: ['n2'],
        start: 1e-6,
        end: 5e-6,
        recoveredAfterStartMs: 0.001,
        recoveredAfterHealMs: 0.002,
      },
    ]);
  });
});
