import { describe, expect, it } from 'vitest';
import { classifyFaultEvent, closingEventFor } from '../checker/timeline/fault-events.js';
import type { Cluster, Grudge, LinkFault, NodeId } from '../core/cluster.js';
import { Rng } from '../core/random.js';
import { auditFaults } from './audit.js';
import {
  healAllRecorded,
  LEADER_POLL_MS,
  type NemesisEvent,
  type NemesisIO,
  runNemesis,
} from './executor.js';
import { planFaults } from './plan.js';
import type { FaultPlan, PlannedFault } from './schema.js';

/** A cluster that only writes down which primitive was called, when (ms since creation). */
class FakeCluster implements Cluster {
  readonly nodes = ['n1', 'n2', 'n3'];
  readonly spares = [];
  readonly calls: { call: string; at: number }[] = [];
  failKill = false;
  private readonly t0 = performance.now();
  private log(call: string): void {
    this.calls.push({ call, at: performance.now() - this.t0 });
  }
  clientAddress(): { host: string; port: number } {
    return { host: '127.0.0.1', port: 1 };
  }
  peerAddress(): { host: string; port: number } {
    return { host: '127.0.0.1', port: 2 };
  }
  async kill(n: NodeId) {
    this.log(`kill ${n}`);
    if (this.failKill) throw new Error(`cannot kill ${n}`);
  }
  async start(n: NodeId) {
    this.log(`start ${n}`);
  }
  async addNode(n: NodeId) {
    this.log(`add ${n}`);
  }
  async removeNode(n: NodeId) {
    this.log(`remove ${n}`);
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

describe('faults aimed at the leader', () => {
  /** io whose leader hook answers from `answers` in turn (the last one repeated), counting asks. */
  function leaderIO(answers: (string | undefined | Error)[]) {
    const t = io();
    let asked = 0;
    const leaderIo = Object.assign(t, {
      asked: () => asked,
      leader: async () => {
        const a = answers[Math.min(asked, answers.length - 1)];
        asked += 1;
        if (a instanceof Error) throw a;
        return a;
      },
    });
    return leaderIo;
  }

  it('hits whoever leads at each start: the start names it, the stop undoes exactly it', async () => {
    const cluster = new FakeCluster();
    // n1 leads at the first fault; after it, n3 has won an election.
    const t = leaderIO([]);
    let leading = 'n1';
    t.leader = async () => leading;
    const p = plan([
      [0, 20, { kind: 'kill', target: 'leader', nodes: [] }],
      [40, 20, { kind: 'kill', target: 'leader', nodes: [] }],
    ]);
    const running = runNemesis(p, cluster, t);
    await new Promise((r) => setTimeout(r, 30));
    leading = 'n3';
    expect(await running).toEqual({ started: 2, stopped: 2, aborted: false });
    expect(cluster.calls.map((c) => c.call)).toEqual([
      'kill n1',
      'start n1',
      'kill n3',
      'start n3',
    ]);
    expect(t.events.map((e) => [e.f, e.value, e.fault, e.error])).toEqual([
      ['kill', ['n1'], 0, undefined],
      ['start', ['n1'], 0, undefined],
      ['kill', ['n3'], 1, undefined],
      ['start', ['n3'], 1, undefined],
    ]);
    // The plan itself is untouched: pure data, as recorded in test.json.
    expect(p.entries[0]?.fault).toEqual({ kind: 'kill', target: 'leader', nodes: [] });
    expect(auditFaults(p, t.events)).toEqual([]);
  });

  it('pause, link, clock and the isolate-leader partition, each on the leader of its start', async () => {
    const cluster = new FakeCluster();
    const t = leaderIO(['n2']);
    await runNemesis(
      plan([
        [0, 5, { kind: 'pause', target: 'leader', nodes: [] }],
        [10, 5, { kind: 'link', target: 'leader', nodes: [], link: { delayMs: 50 } }],
        [20, 5, { kind: 'clock', target: 'leader', offsets: {}, leaderOffsetMs: -4000 }],
        [30, 5, { kind: 'partition', topology: 'isolate-leader', grudge: {} }],
      ]),
      cluster,
      t,
    );
    expect(cluster.calls.map((c) => c.call)).toEqual([
      'pause n2',
      'resume n2',
      'link n2 {"delayMs":50}',
      'link n2 {}',
      'clock n2 -4000',
      'clock n2 0',
      'partition {"n1":["n2"],"n2":["n1","n3"],"n3":["n2"]}',
      'heal',
    ]);
    expect(t.events.map((e) => [e.f, e.value])).toEqual([
      ['pause', ['n2']],
      ['resume', ['n2']],
      ['link-start', { nodes: ['n2'], delayMs: 50 }],
      ['link-stop', ['n2']],
      ['clock-offset', { n2: -4000 }],
      ['clock-reset', ['n2']],
      ['partition-start', { n1: ['n2'], n2: ['n1', 'n3'], n3: ['n2'] }],
      ['partition-stop', { n1: ['n2'], n2: ['n1', 'n3'], n3: ['n2'] }],
    ]);
    expect(t.events.every((e) => e.error === undefined)).toBe(true);
  });

  it('while no node leads it asks again, and hits the leader once one is elected', async () => {
    const cluster = new FakeCluster();
    const t = leaderIO([undefined, new Error('connection refused'), 'n3']);
    await runNemesis(plan([[0, 1000, { kind: 'kill', target: 'leader', nodes: [] }]]), cluster, t);
    expect(t.asked()).toBe(3);
    expect(cluster.calls.map((c) => c.call)).toEqual(['kill n3', 'start n3']);
    const start = t.events[0]!;
    expect(start.error).toBeUndefined();
    // Late by the two polls: the lateness is on record.
    expect(start.startedTime - start.scheduledTime).toBeGreaterThanOrEqual(
      2 * LEADER_POLL_MS * 1e6,
    );
  });

  it('no leader within half the window: the start records why, nothing is hit or undone', async () => {
    const cluster = new FakeCluster();
    const t = leaderIO([undefined]);
    const p = plan([
      [0, 1000, { kind: 'kill', target: 'leader', nodes: [] }],
      [1010, 5, { kind: 'pause', target: 'one', nodes: ['n1'] }],
    ]);
    expect(await runNemesis(p, cluster, t)).toEqual({ started: 2, stopped: 2, aborted: false });
    // Asked at 0, 200, 400 ms; the next ask (600 ms) would pass half the 1000 ms window.
    expect(t.asked()).toBe(3);
    expect(cluster.calls.map((c) => c.call)).toEqual(['pause n1', 'resume n1']);
    expect(t.events.map((e) => [e.f, e.value, e.error])).toEqual([
      ['kill', [], expect.stringMatching(/^no leader to aim at: no node leads \(asked for \d+ ms/)],
      ['start', [], undefined],
      ['pause', ['n1'], undefined],
      ['resume', ['n1'], undefined],
    ]);
    // The audit names it, so the verdict cannot be valid.
    expect(auditFaults(p, t.events)).toEqual([
      expect.stringMatching(/^fault 1 \(kill leader\): kill failed: no leader to aim at/),
    ]);
  });

  it('a system without a leader hook, or naming a node the run lacks, is an error of the start', async () => {
    const cluster = new FakeCluster();
    const t = io();
    await runNemesis(
      plan([[0, 5, { kind: 'partition', topology: 'isolate-leader', grudge: {} }]]),
      cluster,
      t,
    );
    expect(t.events[0]?.error).toMatch(/no leader to aim at: the system has no leader hook/);
    const u = leaderIO(['n9']);
    await runNemesis(plan([[0, 5, { kind: 'kill', target: 'leader', nodes: [] }]]), cluster, u);
    expect(u.events[0]?.error).toMatch(/the system named "n9", not a node of this run/);
    expect(cluster.calls).toEqual([]);
  });

  it('stops asking on abort, recording nothing', async () => {
    const cluster = new FakeCluster();
    const ac = new AbortController();
    const t = Object.assign(io(ac.signal), { leader: async () => undefined });
    const running = runNemesis(
      plan([[0, 60_000, { kind: 'kill', target: 'leader', nodes: [] }]]),
      cluster,
      t,
    );
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    expect(await running).toEqual({ started: 0, stopped: 0, aborted: true });
    expect(t.events).toEqual([]);
  });

  it('a planned leader fault carried out from a seeded plan, the leader changing in between', async () => {
    const p = planFaults(
      {
        faults: ['kill', 'pause'],
        targets: ['leader'],
        faultDuration: [0.02, 0.02],
        quiet: [0.02, 0.02],
        initialQuiet: 0,
      },
      ['n1', 'n2', 'n3'],
      new Rng(5),
      200,
    );
    expect(p.entries.length).toBeGreaterThan(2);
    const cluster = new FakeCluster();
    // An election after every fault: the next node in turn leads.
    let turn = 0;
    const t = Object.assign(io(), { leader: async () => p.nodes[turn % 3] });
    const hit: string[] = [];
    const origKill = cluster.kill.bind(cluster);
    cluster.kill = async (n) => {
      hit.push(n);
      turn += 1;
      await origKill(n);
    };
    const origPause = cluster.pause.bind(cluster);
    cluster.pause = async (n) => {
      hit.push(n);
      turn += 1;
      await origPause(n);
    };
    await runNemesis(p, cluster, t);
    expect(hit).toEqual(p.entries.map((_, i) => p.nodes[i % 3]));
    const starts = t.events.filter((e) => e.f === 'kill' || e.f === 'pause');
    expect(starts.map((e) => e.value)).toEqual(hit.map((n) => [n]));
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
    membership: { kind: 'membership', change: 'grow', pick: 0 },
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
