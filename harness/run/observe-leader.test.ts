import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../core/event.js';
import type { ClusterView } from '../../core/system.js';
import { observeLeader } from './observe-leader.js';

const cluster = {
  nodes: ['n1', 'n2', 'n3'],
  spares: [] as string[],
  clientAddress: (node: string) => ({ host: '127.0.0.1', port: Number(node.slice(1)) }),
};

function recorder() {
  const events: EventInput[] = [];
  return {
    events,
    record: (e: EventInput) => {
      events.push(e);
      return { ...e, index: events.length - 1, time: events.length } as never;
    },
  };
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
};

describe('observeLeader', () => {
  it('is nothing without a leader hook', () => {
    expect(observeLeader({ system: {}, cluster, recorder: recorder() })).toBeUndefined();
  });

  it('records the first answer and each change; errors and time-outs record nothing', async () => {
    const answers: (string | undefined | 'throw' | 'hang')[] = [
      'n1',
      'n1',
      'throw',
      'hang',
      'n1',
      'n2',
      undefined,
      undefined,
      'n3',
    ];
    let calls = 0;
    const signals: AbortSignal[] = [];
    const rec = recorder();
    const observer = observeLeader({
      system: {
        leader: async (view: ClusterView) => {
          signals.push(view.signal);
          expect(view.nodes).toEqual(['n1', 'n2', 'n3']);
          const a = answers[Math.min(calls++, answers.length - 1)];
          if (a === 'throw') throw new Error('no quorum');
          if (a === 'hang') return new Promise<never>(() => {});
          return a;
        },
      },
      cluster,
      recorder: rec,
      intervalMs: 1,
      timeoutMs: 30,
    })!;
    await until(() => calls >= answers.length + 2);
    await observer.stop();
    expect(rec.events).toEqual([
      { process: 'observer', type: 'info', f: 'leader', value: 'n1' },
      { process: 'observer', type: 'info', f: 'leader', value: 'n2' },
      { process: 'observer', type: 'info', f: 'leader', value: null },
      { process: 'observer', type: 'info', f: 'leader', value: 'n3' },
    ]);
    // The hung call was given up: its signal aborted.
    expect(signals[3]!.aborted).toBe(true);
    const after = calls;
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(after); // stopped
  });

  it('stops at once while a call hangs, and the hook’s own throw never escapes', async () => {
    const rec = recorder();
    let asked = 0;
    const observer = observeLeader({
      system: {
        leader: () => {
          asked++;
          return new Promise<never>(() => {});
        },
      },
      cluster,
      recorder: rec,
      intervalMs: 1,
      timeoutMs: 60_000,
    })!;
    await until(() => asked > 0);
    const t0 = Date.now();
    await observer.stop();
    expect(Date.now() - t0).toBeLessThan(500);
    expect(rec.events).toEqual([]);

    const sync = observeLeader({
      system: {
        leader: () => {
          throw new Error('synchronous');
        },
      },
      cluster,
      recorder: rec,
      intervalMs: 1,
    })!;
    await new Promise((r) => setTimeout(r, 10));
    await sync.stop();
    expect(rec.events).toEqual([]);
  });
});
