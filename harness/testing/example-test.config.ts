// A config file as a user writes one (loaded by the spec tests).
import { defineTest } from '../spec.js';

export default defineTest({
  name: 'from-config',
  nodes: 3,
  workload: { name: 'register', options: { keys: 2 } },
  nemesis: { faults: ['partition', 'kill'], interval: 4 },
  rate: 50,
  settings: { fsync: 'always', r: 2 },
});
