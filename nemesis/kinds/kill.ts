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

/** SIGKILL the target nodes; the stop starts them again. */
export const kill = defineFaultKind({
  name: 'kill',
  settings: { targets: targetsSetting },
  fault: { target: z.enum(TARGETS), nodes: z.array(z.string()) },
  needsWith: targetsNeed,
  capabilities: () => ['kill'],
  plan(s, nodes, rng) {
    const target = rng.pick(s.targets);
    return { target, nodes: targetNodes(target, nodes, rng) };
  },
  describe: (f) => `kill ${nodesText(f)}`,
  resolve: async (f, context) => ({ ...f, nodes: await startNodes(f, context) }),
  start: (f) => ({ value: f.nodes, act: (c) => onEachNode(f.nodes, (n) => c.kill(n)) }),
  stop: (f) => ({ value: f.nodes, act: (c) => onEachNode(f.nodes, (n) => c.start(n)) }),
  // Jepsen's names too: `start` closes a kill (fault-events.ts knows it opens nothing else here).
  events: { open: 'kill', close: 'start' },
  style: { label: 'kill', colour: '#ffb3b3' },
});
