import { nodePrimitiveFault } from './shared.js';

/** SIGSTOP the target nodes; the stop resumes them. */
export const pause = nodePrimitiveFault({
  name: 'pause',
  capability: 'pause',
  start: (c, n) => c.pause(n),
  stop: (c, n) => c.resume(n),
  events: { open: 'pause', close: 'resume' },
  style: { label: 'pause', colour: '#d9c2ff' },
});
