import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Capability } from '../harness/backends/types.js';
import { Rng } from '../harness/random.js';
import {
  planFaults,
  requiredCapabilities,
  targetNodes,
  targetSize,
  unsupportedFaults,
} from './plan.js';
import { FAULT_KINDS, FaultPlanSchema, parseNemesisSpec, TARGETS, TOPOLOGIES } from './schema.js';

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
          } else {
            expect(spec.targets).toContain(fault.target);
            const hit = fault.kind === 'clock' ? Object.keys(fault.offsets) : fault.nodes;
            expect(hit).toHaveLength(targetSize(fault.target, NODES.length));
            expect(new Set(hit).size).toBe(hit.length);
            for (const n of hit) expect(NODES).toContain(n);
          }
          if (fault.kind === 'clock') {
            for (const o of Object.values(fault.offsets)) {
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
    expect(topologies.size).toBe(TOPOLOGIES.length - 1);
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
  it('sizes: one, minority, majority, all', () => {
    expect([1, 2, 3, 4, 5, 7].map((n) => TARGETS.map((t) => targetSize(t, n)))).toEqual([
      [1, 1, 1, 1],
      [1, 1, 2, 2],
      [1, 1, 2, 3],
      [1, 1, 3, 4],
      [1, 2, 3, 5],
      [1, 3, 4, 7],
    ]);
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
