import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Capability } from '../core/cluster.js';
import { Rng } from '../core/random.js';
import { auditFaults } from './audit.js';
import {
  describeFault,
  planFaults,
  planShortfall,
  requiredCapabilities,
  targetNodes,
  targetSize,
  unsupportedFaults,
} from './plan.js';
import {
  BUILTIN_TOPOLOGIES,
  FAULT_KINDS,
  FaultPlanSchema,
  parseNemesisSpec,
  TARGETS,
  TOPOLOGIES,
} from './schema.js';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const specs = fc.record({
  faults: fc.uniqueArray(fc.constantFrom(...FAULT_KINDS), { minLength: 1 }),
  interval: fc.double({ min: 0.5, max: 20, noNaN: true }),
  targets: fc.uniqueArray(fc.constantFrom(...TARGETS), { minLength: 1 }),
  topologies: fc.uniqueArray(fc.constantFrom(...TOPOLOGIES.filter((t) => t !== 'custom')), {
    minLength: 1,
  }),
});

describe('planFaults', () => {
  it('the same seed gives the same plan', () => {
    fc.assert(
      fc.property(specs, fc.integer(), fc.integer({ min: 0, max: 60_000 }), (spec, seed, limit) => {
        expect(planFaults(spec, NODES, new Rng(seed), limit)).toEqual(
          planFaults(spec, NODES, new Rng(seed), limit),
        );
      }),
    );
  });

  it('faults never overlap, each is followed by its quiet window, and all end by the time limit', () => {
    fc.assert(
      fc.property(specs, fc.integer(), fc.integer({ min: 0, max: 60_000 }), (spec, seed, limit) => {
        const plan = planFaults(spec, NODES, new Rng(seed), limit);
        expect(FaultPlanSchema.parse(plan)).toEqual(plan);
        const intervalMs = spec.interval * 1000;
        let end = 0;
        plan.entries.forEach((e, i) => {
          expect(e.index).toBe(i);
          expect(e.startMs).toBeGreaterThanOrEqual(end);
          expect(e.startMs + e.durationMs).toBeLessThanOrEqual(limit);
          expect(e.durationMs).toBeGreaterThanOrEqual(Math.floor(0.3 * intervalMs));
          expect(e.durationMs).toBeLessThanOrEqual(Math.ceil(0.7 * intervalMs));
          expect(e.quietMs).toBeGreaterThanOrEqual(Math.floor(0.3 * intervalMs));
          end = e.startMs + e.durationMs + e.quietMs;
        });
        // Packed: the schedule stops only when the next fault (at most 0.7 interval) cannot fit.
        const last = plan.entries.length === 0 ? Math.round(spec.interval * 500) : end;
        expect(last + Math.ceil(0.7 * intervalMs)).toBeGreaterThan(limit);
      }),
    );
  });

  it('faults use only the spec kinds, targets and topologies, with exact target sizes', () => {
    fc.assert(
      fc.property(specs, fc.integer(), (spec, seed) => {
        const plan = planFaults(spec, NODES, new Rng(seed), 60_000);
        for (const { fault } of plan.entries) {
          expect(spec.faults).toContain(fault.kind);
          if (fault.kind === 'partition') {
            expect(spec.topologies).toContain(fault.topology);
          } else if (fault.kind === 'membership') {
            // The node is chosen at the start, among the members or the pool then.
            expect(fault.node).toBeUndefined();
          } else {
            expect(spec.targets).toContain(fault.target);
            const hit = fault.kind === 'clock' ? Object.keys(fault.offsets) : fault.nodes;
            // Aimed at the leader: no node is named before the fault starts.
            const size = fault.target === 'leader' ? 0 : targetSize(fault.target, NODES.length);
            expect(hit).toHaveLength(size);
            expect(new Set(hit).size).toBe(hit.length);
            for (const n of hit) expect(NODES).toContain(n);
          }
          if (fault.kind === 'clock') {
            const offsets = Object.values(fault.offsets);
            if (fault.target === 'leader') offsets.push(fault.leaderOffsetMs ?? 0);
            else expect(fault.leaderOffsetMs).toBeUndefined();
            for (const o of offsets) {
              expect(Math.abs(o)).toBeGreaterThanOrEqual(30_000);
              expect(Math.abs(o)).toBeLessThanOrEqual(60_000);
            }
          }
        }
      }),
    );
  });

  it('draws every kind, target and topology over a long run (all choices come from the rng)', () => {
    const plan = planFaults(
      { faults: [...FAULT_KINDS], interval: 1, targets: [...TARGETS] },
      NODES,
      new Rng(11),
      600_000,
    );
    const kinds = new Set(plan.entries.map((e) => e.fault.kind));
    expect([...kinds].sort()).toEqual([...FAULT_KINDS].sort());
    const targets = new Set(
      plan.entries.flatMap((e) => ('target' in e.fault ? [e.fault.target] : [])),
    );
    expect([...targets].sort()).toEqual([...TARGETS].sort());
    const topologies = new Set(
      plan.entries.flatMap((e) => (e.fault.kind === 'partition' ? [e.fault.topology] : [])),
    );
    // The defaults: all but custom (needs a grudge) and isolate-leader (needs a leader hook).
    expect([...topologies].sort()).toEqual([...BUILTIN_TOPOLOGIES].sort());
    expect(BUILTIN_TOPOLOGIES).toHaveLength(TOPOLOGIES.length - 2);
  });

  it('a spec without leader plans exactly as before leader targets existed (seeded golden)', () => {
    // Recorded from the code before `leader` was added: the draw order of the other targets
    // (and of everything else) must not move, or every seeded plan changes.
    const plan = planFaults(
      {
        faults: ['partition', 'kill', 'pause', 'clock', 'link'],
        interval: 1,
        targets: ['one', 'minority', 'majority', 'all'],
      },
      NODES,
      new Rng(7),
      6000,
    );
    expect(
      plan.entries.map((e) => JSON.stringify([e.startMs, e.durationMs, e.quietMs, e.fault])),
    ).toEqual([
      '[500,365,601,{"kind":"pause","target":"all","nodes":["n1","n2","n3","n4","n5"]}]',
      '[1466,671,483,{"kind":"link","target":"one","nodes":["n1"],"link":{"delayMs":100,"jitterMs":100,"loss":0}}]',
      '[2620,448,587,{"kind":"clock","target":"majority","offsets":{"n1":57533,"n2":40550,"n5":-42486}}]',
      '[3655,404,699,{"kind":"kill","target":"all","nodes":["n1","n2","n3","n4","n5"]}]',
      '[4758,541,515,{"kind":"partition","topology":"majorities-ring","grudge":{"n1":["n3","n5"],"n2":["n3","n4"],"n3":["n1","n2"],"n4":["n2","n5"],"n5":["n1","n4"]}}]',
    ]);
  });

  it('faults aimed at the leader record the target and name no node: resolved when they start', () => {
    const plan = planFaults(
      {
        faults: ['kill', 'pause', 'link', 'clock', 'partition'],
        targets: ['leader'],
        topologies: ['isolate-leader'],
        interval: 1,
      },
      NODES,
      new Rng(3),
      30_000,
    );
    const kinds = new Set(plan.entries.map((e) => e.fault.kind));
    expect(kinds.size).toBe(5);
    for (const { fault } of plan.entries) {
      switch (fault.kind) {
        case 'partition':
          expect(fault).toEqual({ kind: 'partition', topology: 'isolate-leader', grudge: {} });
          break;
        case 'clock':
          expect(fault.offsets).toEqual({});
          expect(Math.abs(fault.leaderOffsetMs ?? 0)).toBeGreaterThanOrEqual(30_000);
          break;
        default:
          expect(fault).toMatchObject({ target: 'leader', nodes: [] });
      }
    }
    expect(FaultPlanSchema.parse(plan)).toEqual(plan);
    const text = plan.entries.map((e) => describeFault(e.fault));
    expect(text).toContain('kill leader');
    expect(text).toContain('partition isolate-leader');
    expect(text.find((t) => t.startsWith('clock'))).toMatch(/^clock leader[+-]\d+ms$/);
  });

  it('honours explicit durations, quiet windows and the initial quiet', () => {
    const plan = planFaults(
      { faults: ['kill'], faultDuration: [2, 2], quiet: [3, 3], initialQuiet: 1 },
      NODES,
      new Rng(1),
      20_000,
    );
    expect(plan.entries.map((e) => [e.startMs, e.durationMs, e.quietMs])).toEqual([
      [1000, 2000, 3000],
      [6000, 2000, 3000],
      [11000, 2000, 3000],
      [16000, 2000, 3000],
    ]);
  });

  it('custom topology plans the given grudge and refuses unknown nodes before the run', () => {
    const plan = planFaults(
      { faults: ['partition'], topologies: ['custom'], grudge: { n1: ['n2'] } },
      NODES,
      new Rng(1),
      30_000,
    );
    expect(plan.entries.length).toBeGreaterThan(0);
    for (const e of plan.entries)
      expect(e.fault).toEqual({ kind: 'partition', topology: 'custom', grudge: { n1: ['n2'] } });
    expect(() =>
      planFaults(
        { faults: ['partition'], topologies: ['custom'], grudge: { n9: [] } },
        NODES,
        new Rng(1),
        1,
      ),
    ).toThrow(/n9/);
  });

  it('no faults, no plan', () => {
    expect(planFaults({}, NODES, new Rng(1), 60_000).entries).toEqual([]);
  });
});

describe('targets', () => {
  it('sizes: one, minority, majority, all, leader', () => {
    expect([1, 2, 3, 4, 5, 7].map((n) => TARGETS.map((t) => targetSize(t, n)))).toEqual([
      [1, 1, 1, 1, 1],
      [1, 1, 2, 2, 1],
      [1, 1, 2, 3, 1],
      [1, 1, 3, 4, 1],
      [1, 2, 3, 5, 1],
      [1, 3, 4, 7, 1],
    ]);
  });

  it('leader draws nothing: the stream is where it was', () => {
    const rng = new Rng(9);
    expect(targetNodes('leader', NODES, rng)).toEqual([]);
    expect(rng.int(0, 1e9)).toBe(new Rng(9).int(0, 1e9));
  });

  it('a target is a random subset in node order', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(...TARGETS), (seed, t) => {
        const picked = targetNodes(t, NODES, new Rng(seed));
        expect(picked).toEqual(NODES.filter((n) => picked.includes(n)));
      }),
    );
  });
});

describe('capabilities', () => {
  it('maps faults to what the backend must do', () => {
    expect(requiredCapabilities({ faults: ['partition', 'kill', 'pause'] }).sort()).toEqual([
      'kill',
      'partition',
      'pause',
    ]);
    expect(requiredCapabilities({ faults: ['link'] })).toEqual(['link-delay']);
    expect(requiredCapabilities({ faults: ['link'], link: { loss: 0.1 } })).toEqual(['link-loss']);
    expect(requiredCapabilities({ faults: ['clock'] })).toEqual(['clock']);
    expect(requiredCapabilities({ faults: ['link'], link: { rateKbit: 512 } })).toEqual([
      'link-bandwidth',
    ]);
    expect(
      requiredCapabilities({ faults: ['link'], link: { delayMs: 5, rateKbit: 512 } }).sort(),
    ).toEqual(['link-bandwidth', 'link-delay']);
  });

  it('refuses a bandwidth limit on a backend without link-bandwidth, before the run', () => {
    const local = {
      name: 'local',
      capabilities: new Set<Capability>(['link-delay', 'link-loss']),
    };
    const spec = { faults: ['link' as const], link: { delayMs: 10, rateKbit: 512 } };
    const problems = unsupportedFaults(spec, local);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/local backend cannot do the link \(link-bandwidth\) fault/);
    const docker = {
      name: 'docker',
      capabilities: new Set<Capability>(['link-delay', 'link-bandwidth']),
    };
    expect(unsupportedFaults(spec, docker)).toEqual([]);
  });

  it('refuses, naming the fault and the backend (and the system for clocks)', () => {
    const local = {
      name: 'local',
      capabilities: new Set<Capability>(['kill', 'pause', 'partition']),
    };
    expect(unsupportedFaults({ faults: ['kill', 'partition'] }, local)).toEqual([]);
    const problems = unsupportedFaults({ faults: ['clock', 'kill'] }, local);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/local backend cannot do the clock fault/);
    const docker = { name: 'docker', capabilities: new Set<Capability>(['clock']) };
    expect(
      unsupportedFaults({ faults: ['clock'] }, docker, { name: 'gostore', clockFaults: false })[0],
    ).toMatch(/gostore system does not support clock faults/);
  });

  it('refuses faults aimed at the leader on a system without a leader hook, naming both', () => {
    const docker = {
      name: 'docker',
      capabilities: new Set<Capability>(['kill', 'pause', 'partition']),
    };
    const leaderless = { name: 'leaderless', clockFaults: true };
    const spec = {
      faults: ['kill' as const, 'pause' as const],
      targets: ['one' as const, 'leader' as const],
    };
    // One sentence for the kinds sharing the setting.
    expect(unsupportedFaults(spec, docker, leaderless)).toEqual([
      'the leaderless system has no leader hook (it cannot say which node leads), so it cannot take faults aimed at the leader (targets: leader)',
    ]);
    expect(
      unsupportedFaults(
        { faults: ['partition'], topologies: ['isolate-leader'] },
        docker,
        leaderless,
      ),
    ).toEqual([
      'the leaderless system has no leader hook (it cannot say which node leads), so it cannot take partitions that isolate the leader (topology: isolate-leader)',
    ]);
    expect(unsupportedFaults(spec, docker, { ...leaderless, leader: true })).toEqual([]);
    expect(unsupportedFaults({ faults: ['kill'] }, docker, leaderless)).toEqual([]);
  });
});

describe('spec', () => {
  it('names the field and the bad value', () => {
    expect(() => parseNemesisSpec({ interval: -1 })).toThrow(/nemesis\.interval/);
    expect(() => parseNemesisSpec({ faults: ['meteor'] })).toThrow(/nemesis\.faults\.0/);
    expect(() => parseNemesisSpec({ topologies: ['custom'] })).toThrow(/nemesis\.grudge/);
    expect(() => parseNemesisSpec({ quiet: [3, 1] })).toThrow(/nemesis\.quiet/);
    expect(() => parseNemesisSpec({ intervall: 3 })).toThrow(/intervall/);
    expect(() => parseNemesisSpec({ link: { rateKbit: 0 } })).toThrow(/nemesis\.link\.rateKbit/);
    expect(() => parseNemesisSpec({ link: { rateKbit: '1mbit' } })).toThrow(
      /nemesis\.link\.rateKbit: expected a bandwidth limit in kbit\/s/,
    );
    expect(parseNemesisSpec({ link: { rateKbit: 2000 } }).link).toEqual({ rateKbit: 2000 });
  });
});

describe('a plan holds what the spec asks for', () => {
  it('every asked-for kind is among the first faults, whenever the plan has room for them', () => {
    fc.assert(
      fc.property(
        specs,
        fc.integer(),
        fc.integer({ min: 0, max: 120_000 }),
        (spec, seed, limit) => {
          const plan = planFaults(spec, NODES, new Rng(seed), limit);
          const asked = new Set(spec.faults);
          if (plan.entries.length < asked.size) return;
          const first = plan.entries.slice(0, asked.size).map((e) => e.fault.kind);
          expect(new Set(first)).toEqual(asked);
          expect(planShortfall(spec, plan)).toBeUndefined();
        },
      ),
    );
  });

  it('a plan too short for the faults asked is named, with the setting to change', () => {
    const spec = { faults: ['kill' as const], interval: 5 };
    const plan = planFaults(spec, NODES, new Rng(1), 3000);
    expect(plan.entries).toEqual([]);
    expect(planShortfall(spec, plan)).toMatch(
      /the fault plan for a 3 s run holds no fault at all, but --nemesis asks for kill \(missing: kill\): raise --time-limit to at least \d+ s, or lower --nemesis-interval \(now 5 s\)/,
    );
    // The time it names is enough.
    const needed = Number(/at least (\d+) s/.exec(planShortfall(spec, plan)!)![1]);
    const longer = planFaults(spec, NODES, new Rng(1), needed * 1000);
    expect(planShortfall(spec, longer)).toBeUndefined();
    // Two kinds asked, room for one: the missing kind is named.
    const two = { faults: ['kill' as const, 'pause' as const], interval: 4, initialQuiet: 0 };
    const short = planFaults(two, NODES, new Rng(2), 4000);
    expect(short.entries.length).toBe(1);
    expect(planShortfall(two, short)).toMatch(
      /holds only 1 fault \((kill|pause)\).*missing: (pause|kill)/,
    );
    // No faults asked: nothing is short.
    expect(planShortfall({ faults: [] }, planFaults({ faults: [] }, NODES, new Rng(1), 0))).toBe(
      undefined,
    );
  });
});

describe('auditFaults', () => {
  const spec = { faults: ['kill' as const, 'pause' as const], interval: 2, initialQuiet: 0 };
  const plan = planFaults(spec, NODES, new Rng(3), 10_000);
  const started = (i: number) => ({
    process: 'nemesis',
    f: plan.entries[i]!.fault.kind === 'kill' ? 'kill' : 'pause',
    fault: i,
  });

  it('is silent when every planned fault started without error', () => {
    expect(plan.entries.length).toBeGreaterThan(2);
    expect(
      auditFaults(
        plan,
        plan.entries.map((_, i) => started(i)),
      ),
    ).toEqual([]);
  });

  it('names faults not carried out, and primitives that failed', () => {
    const events = plan.entries.map((_, i) => started(i));
    const missing = auditFaults(plan, events.slice(1));
    expect(missing).toEqual([
      expect.stringMatching(
        new RegExp(
          `^1 of ${plan.entries.length} planned faults was not carried out \\(the first: fault 1, (kill|pause) n\\d(,n\\d)*, due at 0\\.0 s\\)$`,
        ),
      ),
    ]);
    const failed = auditFaults(plan, [
      ...events,
      { process: 'nemesis', f: 'resume', fault: 1, error: 'n2: no such process' },
    ]);
    expect(failed).toEqual([
      expect.stringMatching(/^fault 2 \(.*\): resume failed: n2: no such process$/),
    ]);
    // Client events with the same fields are not the nemesis's.
    expect(
      auditFaults(
        plan,
        events.map((e) => ({ ...e, process: 0 })),
      ),
    ).toHaveLength(1);
  });
});
