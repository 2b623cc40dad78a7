// A test as a config file: `faultline run --config examples/register-chaos.config.ts`.
// Flags given on the command line override these fields (e.g. --seed 7 --time-limit 60).
import { defineTest } from 'faultline/harness';

export default defineTest({
  name: 'register-chaos',
  system: 'leaderless',
  backend: 'local',
  nodes: 5,
  // CASPaxos read / write / cas on four keys, each checked for linearizability on its own.
  workload: { name: 'register', options: { keys: 4 } },
  // Partitions, kills and pauses of one node or a minority, a new fault about every 4 s.
  nemesis: { faults: ['partition', 'kill', 'pause'], interval: 4, targets: ['one', 'minority'] },
  concurrency: 8,
  rate: 200,
  timeLimit: 30,
  recovery: 3,
  opTimeout: 2,
  // Passed to every node as --fsync always: acknowledged writes are on disk.
  settings: { fsync: 'always' },
  // A run is only called valid when it did this much; fewer ok ops make it unknown.
  evidence: { minOkOps: 100, minOkOpsPerKey: 5 },
});
