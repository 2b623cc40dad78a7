import { z } from 'zod';
import type { NodeId } from '../../core/cluster.js';
import { defineFaultKind } from '../../core/nemesis.js';
import { onEachNode, TARGETS, targetNodes, targetsNeed, targetsSetting } from './shared.js';

/** Move the target nodes' wall clocks; the stop sets them right. */
export const clock = defineFaultKind({
  name: 'clock',
  settings: {
    targets: targetsSetting,
    /** A `clock` fault moves each target's clock by ± [half, all] of this many ms. */
    clockOffsetMs: z.number().positive().default(60_000),
  },
  fault: {
    target: z.enum(TARGETS),
    offsets: z.record(z.string(), z.number()),
    /** Aimed at the leader: the offset planned for whichever node leads at the start. */
    leaderOffsetMs: z.number().optional(),
  },
  needsWith: targetsNeed,
  capabilities: () => ['clock'],
  needs: {
    feature: 'clockFaults',
    lacking: 'does not support clock faults (it reads the clock without libc)',
  },
  plan(s, nodes, rng) {
    const target = rng.pick(s.targets);
    const offset = () => {
      const size = rng.between(0.5, 1) * s.clockOffsetMs;
      return Math.round(rng.chance(0.5) ? size : -size);
    };
    // The node is known only at the start; the offset is drawn now, as for one node.
    if (target === 'leader') return { target, offsets: {}, leaderOffsetMs: offset() };
    const offsets: Record<NodeId, number> = {};
    // Per node in node order: the size, then the sign.
    for (const n of targetNodes(target, nodes, rng)) offsets[n] = offset();
    return { target, offsets };
  },
  describe: (f) =>
    `clock ${Object.entries(
      f.leaderOffsetMs !== undefined && Object.keys(f.offsets).length === 0
        ? { leader: f.leaderOffsetMs }
        : f.offsets,
    )
      .map(([n, o]) => `${n}${o >= 0 ? '+' : ''}${o}ms`)
      .join(' ')}`,
  resolve: async (f, context) =>
    f.target === 'leader'
      ? { ...f, offsets: { [await context.leader()]: f.leaderOffsetMs ?? 0 } }
      : f,
  start: (f) => ({
    value: f.offsets,
    act: (c) => onEachNode(Object.keys(f.offsets), (n) => c.setClock(n, f.offsets[n] ?? 0)),
  }),
  stop: (f) => {
    const nodes = Object.keys(f.offsets);
    return { value: nodes, act: (c) => onEachNode(nodes, (n) => c.setClock(n, 0)) };
  },
  events: { open: 'clock-offset', close: 'clock-reset' },
  style: { label: 'clock', colour: '#ffd59b' },
});
