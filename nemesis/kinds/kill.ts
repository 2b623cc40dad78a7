import { nodePrimitiveFault } from './shared.js';

/** SIGKILL the target nodes; the stop starts them again. */
export const kill = nodePrimitiveFault({
  name: 'kill',
  capability: 'kill',
  start: (c, n) => c.kill(n),
  stop: (c, n) => c.start(n),
  // Jepsen's names too: `start` closes a kill (fault-events.ts knows it opens nothing else here).
  events: { open: 'kill', close: 'start' },
  style: { label: 'kill', colour: '#ffb3b3' },
});
