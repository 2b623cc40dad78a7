import { z } from 'zod';
import { defineFaultKind } from '../../core/nemesis.js';
import {
  nodesText,
  onEachNode,
  startNodes,
  TARGETS,
  targetNodes,
  targetsNeed,
  targetsSetting,
} from './shared.js';

/** SIGSTOP the target nodes; the stop resumes them. */
export const pause = defineFaultKind({
  name: 'pause',
  settings: { targets: targetsSetting },
  fault: { target: z.enum(TARGETS), nodes: z.array(z.string()) },
  needsWith: targetsNeed,
  capabilities: () => ['pause'],
  plan(s, nodes, rng) {
    const target = rng.pick(s.targets);
    return { target, nodes: targetNodes(target, nodes, rng) };
  },
  describe: (f) => `pause ${nodesText(f)}`,
  resolve: async (f, context) => ({ ...f, nodes: await startNodes(f, context) }),
  start: (f) => ({ value: f.nodes, act: (c) => onEachNode(f.nodes, (n) => c.pause(n)) }),
  stop: (f) => ({ value: f.nodes, act: (c) => onEachNode(f.nodes, (n) => c.resume(n)) }),
  events: { open: 'pause', close: 'resume' },
  style: { label: 'pause', colour: '#d9c2ff' },
});
