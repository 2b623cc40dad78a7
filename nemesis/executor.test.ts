import { describe, expect, it } from 'vitest';
import { classifyFaultEvent, closingEventFor } from '../checker/timeline/fault-events.js';
import type { Cluster, Grudge, LinkFault, NodeId } from '../core/cluster.js';
import { healAllRecorded, type NemesisEvent, type NemesisIO, runNemesis } from './executor.js';
import type { FaultPlan, PlannedFault } from './schema.js';

/** A cluster that only writes down which primitive was called, when (ms since creation). */
class FakeCluster implements Cluster {
  readonly nodes = ['n1', 'n2', 'n3'];
  readonly calls: { call: string; at: number }[] = [];
  failKill = false;
  private readonly t0 = performance.now();
  private log(call: string): void {
    this.calls.push({ call, at: performance.now() - this.t0 });
  }
  clientAddress(): { host: string; port: number } {
    return { host: '127.0.0.1', port: 1 };
  }
  async kill(n: NodeId) {
    this.log(`kill ${n}`);
    if (this.failKill) throw new Error(`cannot kill ${n}`);
  }
  async start(n: NodeId) {
    this.log(`start ${n}`);
  }
  async pause(n: NodeId) {
    this.log(`pause ${n}`);
  }
  async resume(n: NodeId) {
    this.log(`resume ${n}`);
  }
  async partition(g: Grudge) {
    this.log(`partition ${JSON.stringify(g)}`);
  }
  async heal() {
    this.log('heal');
  }
  async setLink(n: NodeId, f: LinkFault) {
    this.log(`link ${n} ${JSON.stringify(f)}`);
  }
  async setClock(n: NodeId, ms: number) {
    this.log(`clock ${n} ${ms}`);
  }
  async healAll() {
    this.log('healAll');
  }
  async teardown() {
    this.log('teardown');
  }
}

function io(signal = new AbortController().signal): NemesisIO & { events: NemesisEvent[] } {
  const start = process.hrtime.bigint();
  const events: NemesisEvent[] = [];
  return {
    events,
    signal,
    record: (e) => events.push(e),
    now: () => Number(process.hrtime.bigint() - start),
  };
}

function plan(faults: [number, number, PlannedFault][]): FaultPlan {
  return {
    nodes: ['n1', 'n2', 'n3'],
    timeLimitMs: 10_000,
    entries: faults.map(([startMs, durationMs, fault], index) => ({
      index,
      startMs,
      durationMs,
      quietMs: 0,
      fault,
    })),
  };
}

describe('runNemesis', () => {
  it('starts and stops each fault through the cluster primitives, in order, recording each event', async () => {
    const cluster = new FakeCluster();
    const t = io();
    const p = plan([
      [0, 20, { kind: 'partition', topology: 'custom', grudge: { n1: ['n2'] } }],
      [30, 20, { kind: 'kill', target: 'minority', nodes: ['n2', 'n3'] }],
      [60, 10, { kind: 'pause', target: 'one', nodes: ['n1'] }],
      [
        80,
        10,
        {
          kind: 'link',
          target: 'one',
          nodes: ['n3'],
          link: { delayMs: 50, loss: 0.1, rateKbit: 64 },
        },
      ],
      [100, 10, { kind: 'clock', target: 'one', offsets: { n2: -5000 } }],
    ]);
    const outcome = await runNemesis(p, cluster, t);
    expect(outcome).toEqual({ started: 5, stopped: 5, aborted: false });
    expect(cluster.calls.map((c) => c.call)).toEqual([
      'partition {"n1":["n2"]}',
      'heal',
      'kill n2',
      'kill n3',
      'start n2',
      'start n3',
      'pause n1',
      'resume n1',
      'link n3 {"delayMs":50,"loss":0.1,"rateKbit":64}',
      'link n3 {}',
      'clock n2 -5000',
      'clock n2 0',
    ]);
    expect(t.events.map((e) => [e.f, e.value, e.fault])).toEqual([
      ['partition-start', { n1: ['n2'] }, 0],
      ['partition-stop', { n1: ['n2'] }, 0],
      ['kill', ['n2', 'n3'], 1],
      ['start', ['n2', 'n3'], 1],
      ['pause', ['n1'], 2],
      ['resume', ['n1'], 2],
      ['link-start', { nodes: ['n3'], delayMs: 50, loss: 0.1, rateKbit: 64 }, 3],
      ['link-stop', ['n3'], 3],
      ['clock-offset', { n2: -5000 }, 4],
      ['clock-reset', ['n2'], 4],
    ]);
    // Nothing is carried out before its time; scheduled times follow the plan exactly.
    const first = t.events[0]!.scheduledTime;
    const offsetsMs = [0, 20, 30, 50, 60, 70, 80, 90, 100, 110];
    t.events.forEach((e, i) => {
      expect(e.process).toBe('nemesis');
      expect(e.type).toBe('info');
      expect(e.error).toBeUndefined();
      expect(Math.round((e.scheduledTime - first) / 1e6)).toBe(offsetsMs[i]);
      expect(e.startedTime).toBeGreaterThanOrEqual(e.scheduledTime);
    });
  });

  it('records a failed primitive with its error and goes on', async () => {
    const cluster = new FakeCluster();
    cluster.failKill = true;
    const t = io();
    const outcome = await runNemesis(
      plan([
        [0, 5, { kind: 'kill', target: 'one', nodes: ['n1'] }],
        [10, 5, { kind: 'pause', target: 'one', nodes: ['n2'] }],
      ]),
      cluster,
      t,
    );
    expect(outcome.stopped).toBe(2);
    expect(t.events[0]?.error).toMatch(/n1: cannot kill n1/);
    expect(t.events.map((e) => e.f)).toEqual(['kill', 'start', 'pause', 'resume']);
  });

  it('returns promptly on abort and leaves the fault for the runner to heal', async () => {
    const cluster = new FakeCluster();
    const ac = new AbortController();
    const t = io(ac.signal);
    const running = runNemesis(
      plan([
        [0, 60_000, { kind: 'pause', target: 'one', nodes: ['n2'] }],
        [61_000, 1000, { kind: 'kill', target: 'one', nodes: ['n1'] }],
      ]),
      cluster,
      t,
    );
    await new Promise((r) => setTimeout(r, 30));
    ac.abort();
    const outcome = await running;
    expect(outcome).toEqual({ started: 1, stopped: 0, aborted: true });
    expect(cluster.calls.map((c) => c.call)).toEqual(['pause n2']);
  });

  it('an already aborted signal runs nothing', async () => {
    const cluster = new FakeCluster();
    const ac = new AbortController();
    ac.abort();
    const outcome = await runNemesis(
      plan([[0, 10, { kind: 'kill', target: 'one', nodes: ['n1'] }]]),
      cluster,
      io(ac.signal),
    );
    expect(outcome.started).toBe(0);
    expect(cluster.calls).toEqual([]);
  });

  it('healAllRecorded heals and records a heal event', async () => {
    const cluster = new FakeCluster();
    const t = io();
    await healAllRecorded(cluster, t);
    expect(cluster.calls.map((c) => c.call)).toEqual(['healAll']);
    expect(t.events.map((e) => e.f)).toEqual(['heal']);
  });
});

describe('the events the executor records, as the timeline reads them', () => {
  // A Record over every fault kind: a new kind does not compile until it is listed here.
  const one: Record<PlannedFault['kind'], PlannedFault> = {
    partition: { kind: 'partition', topology: 'custom', grudge: { n1: ['n2'] } },
    kill: { kind: 'kill', target: 'one', nodes: ['n1'] },
    pause: { kind: 'pause', target: 'one', nodes: ['n1'] },
    link: { kind: 'link', target: 'one', nodes: ['n1'], link: { delayMs: 5 } },
    clock: { kind: 'clock', target: 'one', offsets: { n1: 100 } },
  };
  it.each(Object.entries(one))('%s: the stop event is what closingEventFor gives', async (_, f) => {
    const t = io();
    await runNemesis(plan([[0, 0, f]]), new FakeCluster(), t);
    const [open, close] = t.events.map((e) => e.f);
    const opened = classifyFaultEvent(open!, () => false);
    expect(opened.edge).toBe('open');
    // The runner closes a fault still open at the heal with closingEventFor: the same name.
    expect(closingEventFor(open!)).toBe(close);
    expect(classifyFaultEvent(close!, (k) => k === opened.kind)).toEqual({
      kind: opened.kind,
      edge: 'close',
    });
  });
});
