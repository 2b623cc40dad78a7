/**
 * Seeded harness runs of the leaderless store under runtime membership changes, shared by the
 * membership e2e files (split so CI's two workers run them side by side).
 */
import { e2eRun } from './e2e-run.js';

/** A workload on 3 nodes with a pool of 4 under membership, partitions and kills (seed 5). */
export const underMembership = (
  out: string,
  o: {
    name: string;
    backend?: 'local' | 'docker';
    workload: { name: string; options: Record<string, unknown> };
    settings?: Record<string, string | number>;
  },
) =>
  e2eRun({
    name: o.name,
    backend: o.backend ?? 'local',
    nodes: 3,
    maxNodes: 4,
    nemesis: {
      faults: ['membership', 'partition', 'kill'] as ('membership' | 'partition' | 'kill')[],
      interval: 2.5,
    },
    concurrency: 6,
    rate: 100,
    timeLimit: 15,
    recovery: 2,
    opTimeout: 1,
    seed: 5,
    out,
    workload: o.workload,
    settings: { 'anti-entropy-interval': 300, ...o.settings },
  });

/**
 * The positive control: 3 nodes with N = 2, so members can be taken out (wiped) and added back
 * empty; anti-entropy and read repair off, so only the hand-off can move data. The same seeded
 * schedule of membership changes loses nothing with streaming and loses acknowledged adds with
 * the unsafe `--handoff-streaming off`, which the set checker reports.
 */
export const replaceMembers = (
  out: string,
  streaming: 'on' | 'off',
  workload: { name: string; options: Record<string, unknown> } = {
    name: 'set',
    options: { mix: { add: 3, remove: 1, read: 1 } },
  },
  rate = 100,
) =>
  e2eRun({
    name: `e2e-membership-${workload.name}-streaming-${streaming}`,
    nodes: 3,
    maxNodes: 3,
    nemesis: { faults: ['membership'] as 'membership'[], interval: 1.5 },
    concurrency: 4,
    rate,
    timeLimit: 15,
    recovery: 2,
    opTimeout: 1,
    seed: 5,
    out,
    workload,
    settings: {
      n: 2,
      'handoff-streaming': streaming,
      'anti-entropy-interval': 0,
      'read-repair': 'off',
    },
  });
