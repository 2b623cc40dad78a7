import { describe, expect, it } from 'vitest';
import { failoverTimes } from './failover.js';
import type { ClientOp } from './history/client-op.js';
import type { HistoryEvent } from './history/event.js';

const S = 1e9;
const MS = 1e6;

const nem = (time: number, f: string, value?: unknown): HistoryEvent => ({
  index: 0,
  time,
  process: 'nemesis',
  type: 'info',
  f,
  ...(value !== undefined ? { value } : {}),
});

/** An op invoked at `call` ns, completing at `ret` ns (pending: never). */
const op = (
  call: number,
  ret: number,
  status: ClientOp['status'] = 'ok',
  f = 'read',
): ClientOp => ({
  process: 0,
  f,
  status,
  invoke: { index: 0, time: call, process: 0, type: 'invoke', f },
  call,
  return: status === 'ok' || status === 'fail' ? ret : Number.POSITIVE_INFINITY,
});

describe('failoverTimes', () => {
  it('measures from the start and from the heal to the first ok of an op invoked after each', () => {
    const events = [nem(4 * S, 'kill-start', ['n2']), nem(10 * S, 'kill-stop', ['n2'])];
    const ops = [
      op(3 * S, 4.5 * S), // invoked before the start: does not count, though it is ok after it
      op(4.1 * S, 5 * S, 'fail'),
      op(4.2 * S, 5.4 * S, 'info'),
      op(5 * S, 5.3 * S), // first ok after the start: 1.3 s
      op(9.9 * S, 10.1 * S), // invoked before the heal
      op(10.1 * S, 10.6 * S), // 0.6 s after the heal...
      op(10.2 * S, 10.3 * S), // ...but this one completed first: 0.3 s
    ];
    expect(failoverTimes(events, ops)).toEqual([
      {
        kind: 'kill',
        label: 'kill-start',
        nodes: ['n2'],
        start: 4,
        end: 10,
        recoveredAfterStartMs: 1300,
        recoveredAfterHealMs: 300,
      },
    ]);
  });

  it('says why there is no recovery: the fault ended first, the run ended, never healed', () => {
    const events = [
      nem(1 * S, 'partition-start'),
      nem(2 * S, 'partition-stop'),
      nem(5 * S, 'pause-start', ['n1']),
    ];
    // One ok op, invoked after the partition began, completing after it ended.
    const ops = [op(1.5 * S, 2.5 * S)];
    const [partition, pause] = failoverTimes(events, ops);
    expect(partition).toMatchObject({
      kind: 'partition',
      recoveredAfterStartMs: null,
      recoveredAfterHealMs: null,
      noRecovery: { afterStart: 'healed-first', afterHeal: 'run-ended' },
    });
    expect(pause).toMatchObject({
      kind: 'pause',
      end: null,
      recoveredAfterStartMs: null,
      recoveredAfterHealMs: null,
      noRecovery: { afterStart: 'run-ended', afterHeal: 'never-healed' },
    });
  });

  it('measures overlapping faults each on its own', () => {
    const events = [
      nem(1 * S, 'kill-start', ['n1']),
      nem(2 * S, 'partition-start'),
      nem(3 * S, 'kill-stop', ['n1']),
      nem(4 * S, 'partition-stop'),
    ];
    const ops = [
      op(1.1 * S, 1.4 * S),
      op(2.5 * S, 2.7 * S),
      op(3.2 * S, 3.25 * S),
      op(4 * S, 4.5 * S),
    ];
    const r = failoverTimes(events, ops);
    expect(r.map((f) => [f.kind, f.recoveredAfterStartMs, f.recoveredAfterHealMs])).toEqual([
      ['kill', 400, 250],
      ['partition', 700, 500],
    ]);
  });

  it('leaves the final phase out: ops invoked from the final heal on do not count', () => {
    const events = [
      nem(1 * S, 'kill-start', ['n3']),
      nem(6 * S, 'heal-all-start'),
      nem(6 * S + 1 * MS, 'kill-stop', ['n3']),
      nem(6 * S + 2 * MS, 'heal-all-stop'),
    ];
    // Final reads after the heal are ok at once; a replica read in the main phase does not count.
    const ops = [
      op(2 * S, 2.1 * S, 'ok', 'replica-read'),
      op(7 * S, 7.01 * S),
      op(8 * S, 8.01 * S),
    ];
    const r = failoverTimes(events, ops);
    expect(r).toHaveLength(1); // heal-all is not a fault
    expect(r[0]).toMatchObject({
      kind: 'kill',
      start: 1,
      end: 6.001,
      recoveredAfterStartMs: null,
      recoveredAfterHealMs: null,
      noRecovery: { afterStart: 'healed-first', afterHeal: 'run-ended' },
    });
  });

  it('takes the run’s own fault names from the styles', () => {
    const styles = [
      { kind: 'crash', label: 'crash', open: 'wipe-disk', close: 'restore-disk', colour: '#f00' },
    ];
    const events = [nem(1 * S, 'wipe-disk'), nem(2 * S, 'restore-disk')];
    const ops = [op(1.5 * S, 1.6 * S), op(2.5 * S, 2.9 * S)];
    const r = failoverTimes(events, ops, styles);
    expect(r.map((f) => [f.kind, f.recoveredAfterStartMs, f.recoveredAfterHealMs])).toEqual([
      ['crash', 600, 900],
    ]);
  });
});
