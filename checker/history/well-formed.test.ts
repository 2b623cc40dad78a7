import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from './event.js';
import { checkWellFormed, WellFormedChecker } from './well-formed.js';

type Partial = Omit<HistoryEvent, 'index' | 'time'> & { time?: number };

/** Events with dense indices and times 10, 20, ... unless given. */
function history(...events: Partial[]): HistoryEvent[] {
  return events.map((e, index) => ({ time: (index + 1) * 10, ...e, index }) as HistoryEvent);
}

describe('well-formedness', () => {
  it('accepts sequential operations per process, equal times, and reuse after ok and fail', () => {
    const h = history(
      { process: 0, type: 'invoke', f: 'write', value: 1 },
      { process: 1, type: 'invoke', f: 'read', time: 20 },
      { process: 0, type: 'ok', f: 'write', value: 1, time: 20 },
      { process: 0, type: 'invoke', f: 'cas', value: [1, 2] },
      { process: 0, type: 'fail', f: 'cas', value: [1, 2] },
      { process: 0, type: 'invoke', f: 'read' },
      { process: 1, type: 'info', f: 'read' },
    );
    expect(checkWellFormed(h, { file: 'h' })).toEqual([]);
  });

  it('exempts nemesis events from pairing', () => {
    const h = history(
      { process: 'nemesis', type: 'info', f: 'partition-start', value: { n1: ['n2'] } },
      { process: 'nemesis', type: 'info', f: 'partition-start' },
      { process: 'nemesis', type: 'invoke', f: 'kill' },
      { process: 'nemesis', type: 'invoke', f: 'kill' },
      { process: 'nemesis', type: 'ok', f: 'heal' },
    );
    expect(checkWellFormed(h, { file: 'h' })).toEqual([]);
  });

  it('exempts observer events (leader changes) from pairing, and retires no process for them', () => {
    const h = history(
      { process: 'observer', type: 'info', f: 'leader', value: 'n1' },
      { process: 0, type: 'invoke', f: 'read' },
      { process: 'observer', type: 'info', f: 'leader', value: null },
      { process: 'observer', type: 'info', f: 'leader', value: 'n2' },
      { process: 0, type: 'ok', f: 'read' },
    );
    expect(checkWellFormed(h, { file: 'h' })).toEqual([]);
    // A client process named like neither is still paired.
    expect(() =>
      checkWellFormed(history({ process: 'observer-2', type: 'info', f: 'leader' }), { file: 'h' }),
    ).toThrow(/without an invoke/);
  });

  it('still checks the time and index of nemesis events', () => {
    const h = history(
      { process: 0, type: 'invoke', f: 'read' },
      { process: 'nemesis', type: 'info', f: 'kill', time: 5 },
    );
    expect(() => checkWellFormed(h, { file: 'h', lines: [7, 9] })).toThrow(
      'h:9: field "time": 5 is earlier than 10, the time of the event before it at line 7; times must not decrease',
    );
  });

  it('treats process ids 3 and "3" as different processes', () => {
    const h = history(
      { process: 3, type: 'invoke', f: 'read' },
      { process: '3', type: 'ok', f: 'read' },
    );
    expect(() => checkWellFormed(h, { file: 'h' })).toThrow(
      'h: ok completion of "read" by process "3" without an invoke',
    );
  });

  it('rejects a retired process id by default, and counts reuses as a warning for imports', () => {
    const h = history(
      { process: 0, type: 'invoke', f: 'write', value: 1 },
      { process: 0, type: 'info', f: 'write', value: 1 },
      { process: 0, type: 'invoke', f: 'read' },
      { process: 0, type: 'info', f: 'read' },
      { process: 0, type: 'invoke', f: 'read' },
      { process: 0, type: 'ok', f: 'read', value: 1 },
    );
    expect(() => checkWellFormed(h, { file: 'h', lines: [1, 2, 3, 4, 5, 6] })).toThrow(
      'h:3: process 0 invokes "read" after an info completion at line 2; a process id is retired after info (use a fresh id)',
    );
    expect(
      checkWellFormed(h, { file: 'h', lines: [1, 2, 3, 4, 5, 6], retiredProcesses: 'warn' }),
    ).toEqual([
      {
        file: 'h',
        line: 3,
        message:
          'h:3: process 0 invokes again after an info completion at line 2 (2 such invokes in all); Jepsen would have retired the id, each such invoke is taken as a new operation',
      },
    ]);
  });

  it('leaves the checker unchanged when it refuses an event', () => {
    const c = new WellFormedChecker({ file: 'h' });
    c.add({ index: 0, time: 1, process: 0, type: 'invoke', f: 'read' });
    expect(() => c.add({ index: 1, time: 2, process: 0, type: 'ok', f: 'write' })).toThrow(
      /field "f"/,
    );
    expect(() => c.add({ index: 1, time: 0, process: 0, type: 'ok', f: 'read' })).toThrow(
      /field "time"/,
    );
    c.add({ index: 1, time: 2, process: 0, type: 'ok', f: 'read' });
    expect(c.finish()).toEqual([]);
  });

  it('rejects an unknown type even when the event skipped schema validation', () => {
    const h = [
      { index: 0, time: 0, process: 0, type: 'done', f: 'read' },
    ] as unknown as HistoryEvent[];
    expect(() => checkWellFormed(h, { file: 'h', lines: [4] })).toThrow(
      'h:4: field "type": expected one of invoke|ok|fail|info, got "done"',
    );
  });
});
