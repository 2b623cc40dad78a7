import { z } from 'zod';
import type { NodeId } from '../../core/cluster.js';
import { defineFaultKind } from '../../core/nemesis.js';
import { onEachNode, TARGETS, targetNodes, targetsSetting } from './shared.js';

/** Move the target nodes' wall clocks; the stop sets them right. */
export const clock = defineFaultKind({
  name: 'clock',
  settings: {
    targets: targetsSetting,
    /** A `clock` fault moves each target's clock by ± [half, all] of this many ms. */
    clockOffsetMs: z.number().positive().default(60_000),
  },
  fault: { target: z.enum(TARGETS), offsets: z.record(z.string(), z.number()) },
  capabilities: () => ['clock'],
  needs: {
    feature: 'clockFaults',
    lacking: 'does not support clock faults (it reads the clock without libc)',
  },
  plan(s, nodes, rng) {
    const target = rng.pick(s.targets);
    const offsets: Record<NodeId, number> = {};
    // Per node in node order: the size, then the sign.
    for (const n of targetNodes(target, nodes, rng)) {
      const size = rng.between(0.5, 1) * s.clockOffsetMs;
      offsets[n] = Math.round(rng.chance(0.5) ? size : -size);
    }
    return { target, offsets };
  },
  describe: (f) =>
    `clock ${Object.entries(f.offsets)
      .map(([n, o]) => `${n}${o >= 0 ? '+' : ''}${o}ms`)
      .join(' ')}`,
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
