import type { Command } from 'commander';
import { defaultRunDeps } from '../api/registries.js';
import type { TestSpecInput } from '../harness/spec.js';
import type { RegisterCommand } from './command.js';
import { executeRun } from './run.js';

/**
 * The demo: a 45 s chaos run of the leaderless store on the local backend, 5 nodes, the
 * register workload, partitions + kills + pauses, ending with verdicts and the report path.
 */
export function demoSpec(
  overrides: { seed?: number; timeLimit?: number; nemesisInterval?: number; out?: string } = {},
): TestSpecInput {
  return {
    name: 'demo',
    system: 'leaderless',
    backend: 'local',
    nodes: 5,
    workload: { name: 'register', options: { keys: 4 } },
    nemesis: {
      faults: ['partition', 'kill', 'pause'],
      interval: overrides.nemesisInterval ?? 6,
      targets: ['one', 'minority'],
    },
    concurrency: 10,
    rate: 300,
    timeLimit: overrides.timeLimit ?? 45,
    recovery: 5,
    opTimeout: 3,
    settings: { fsync: 'always' },
    ...(overrides.seed !== undefined ? { seed: overrides.seed } : {}),
    ...(overrides.out !== undefined ? { out: overrides.out } : {}),
  };
}

export const registerDemo: RegisterCommand = (program: Command, { io, setExit }) => {
  program
    .command('demo')
    .description(
      'a 45 s chaos run: leaderless store, 5 local nodes, register workload, partitions + kills + pauses',
    )
    .option('--seed <n>', 'the seed (random when absent)')
    .option('--time-limit <seconds>', 'length of the chaos phase (default 45)')
    .option('--nemesis-interval <seconds>', 'mean seconds between fault starts (default 6)')
    .option('--out <dir>', 'results root (default results)')
    .action(
      async (flags: {
        seed?: string;
        timeLimit?: string;
        nemesisInterval?: string;
        out?: string;
      }) => {
        const o: Parameters<typeof demoSpec>[0] = {};
        if (flags.seed !== undefined) o.seed = Number(flags.seed);
        if (flags.timeLimit !== undefined) o.timeLimit = Number(flags.timeLimit);
        if (flags.nemesisInterval !== undefined) o.nemesisInterval = Number(flags.nemesisInterval);
        if (flags.out !== undefined) o.out = flags.out;
        io.out(
          'faultline demo: 5 leaderless nodes on this machine, clients doing CASPaxos reads, writes and',
        );
        io.out(
          'compare-and-sets while the nemesis partitions the network, kills and pauses nodes.',
        );
        const code = await executeRun(demoSpec(o), io, defaultRunDeps());
        setExit(code);
      },
    );
};
