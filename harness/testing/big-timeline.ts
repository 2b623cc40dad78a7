import type { ClientOp } from '../../checker/history/client-op.js';
import type { HistoryEvent } from '../../checker/history/event.js';
import { renderTimeline } from '../../checker/timeline/index.js';
import { Rng } from '../../core/random.js';

/**
 * A big standalone timeline for browser tests and the inspection benchmark: `n` ops (reads, writes
 * and cas; 90 % ok, 7 % fail, 3 % info) on 10 processes, one starting every 2 ms, with `faults` kills of a few ms each spread over the run.
 */
export function bigTimeline(n: number, faults: number): string {
  const ops: ClientOp[] = [];
  const events: HistoryEvent[] = [];
  // Varied latencies, values, functions and outcomes, so the packed page is as big as a real
  // run's (a regular history gzips to almost nothing).
  const rng = new Rng(15, 'big-timeline');
  const fs = ['read', 'write', 'cas'] as const;
  for (let i = 0; i < n; i++) {
    const p = i % 10;
    const call = i * 2_000_000 + p * 10_000 + rng.int(0, 9_999);
    const ret = call + rng.int(200_000, 15_000_000);
    const f = fs[rng.int(0, 2)]!;
    const roll = rng.float();
    const status = roll < 0.9 ? 'ok' : roll < 0.97 ? 'fail' : 'info';
    const key = `k${rng.int(0, 3)}`;
    const value = f === 'cas' ? [rng.int(0, 999), rng.int(0, 999)] : rng.int(0, 999);
    const invoke = {
      index: 2 * i,
      time: call,
      process: p,
      type: 'invoke',
      f,
      key,
      value: f === 'read' ? null : value,
    } as HistoryEvent;
    const completion = {
      ...invoke,
      index: 2 * i + 1,
      time: ret,
      type: status,
      value: f === 'read' && status === 'ok' ? rng.int(0, 999) : invoke.value,
    } as HistoryEvent;
    ops.push({ process: p, f, key, status, invoke, completion, call, return: ret });
  }
  const end = n * 2_000_000;
  for (let k = 0; k < faults; k++) {
    const s = Math.floor(((k + 0.5) / faults) * end * 0.9);
    // Short faults: a few ms in a run of minutes, thinner than a pixel unless kept visible.
    events.push({
      index: 0,
      time: s,
      process: 'nemesis',
      type: 'info',
      f: 'kill',
      value: ['n1'],
    } as HistoryEvent);
    events.push({
      index: 0,
      time: s + 3_000_000,
      process: 'nemesis',
      type: 'info',
      f: 'start',
      value: ['n1'],
    } as HistoryEvent);
  }
  return renderTimeline({
    title: `${n} ops`,
    ops,
    events,
    result: { valid: true, partitions: [] },
  });
}
