// A workload of your own: reads and writes of one key, checked for linearizability. It reaches
// the system only through the `register` client API; a system without it is refused up front.
import {
  defineWorkload,
  type Gen,
  linearizabilityChecker,
  type Op,
  requireClient,
  statsChecker,
  z,
} from 'faultline';

export default defineWorkload({
  name: 'one-key',
  description: 'reads and unique writes of a single key, checked for linearizability',
  options: z.strictObject({ readShare: z.number().min(0).max(1).default(0.5) }),
  build: (options, ctx) => {
    // One stream shared by every worker: the n-th op of the run writes n, so writes are unique.
    const from = (n: number): Gen<Op> => ({
      next: (c) => ({
        kind: 'op',
        at: c.time,
        next: from(n + 1),
        op:
          c.rng.float() < options.readShare
            ? { f: 'read', key: 'k' }
            : { f: 'write', key: 'k', value: n + 1 },
      }),
    });
    return {
      generator: from(0),
      client: requireClient(ctx.system.clients, 'register', ctx.system.name, 'one-key'),
      checkers: [linearizabilityChecker('kv', null), statsChecker],
      check: { model: 'kv', initial: null },
    };
  },
});
