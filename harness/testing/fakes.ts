import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, ClientFactory, Op } from '../../core/client.js';
import { ErrorRegistry, hasCode, OpError } from '../../core/client.js';
import type {
  Backend,
  Capability,
  Cluster,
  ClusterOptions,
  Grudge,
  HostPort,
  NodeId,
} from '../../core/cluster.js';
import type { NemesisDriver, NemesisSpec } from '../../core/nemesis.js';
import type { SystemDefinition } from '../../core/system.js';

/**
 * In-memory stand-ins for the runner's tests: a cluster whose "nodes" share one map of
 * registers (so it is linearizable unless told to lie), a client for it, and a nemesis that
 * kills and pauses on a fixed plan. Every call is logged in order in `calls`.
 */
export interface FakeWorld {
  calls: string[];
  registers: Map<string, unknown>;
  killed: Set<NodeId>;
  paused: Set<NodeId>;
  /** Nodes whose reads answer null whatever the register holds (a planted anomaly). */
  lyingNodes: Set<NodeId>;
  /** Throw from these cluster methods (error paths). */
  failOn: Set<'createCluster' | 'healAll' | 'teardown' | 'open' | 'kill'>;
  /** Every op is refused, as by a node that is not listening (a definite fail). */
  refuseAll: boolean;
  /** Paused nodes' ops wait for resume (or the op's abort). */
  resumeWaiters: (() => void)[];
  /**
   * The node that leads (undefined: none), as `fakeSystem(world, { leader: true })` reports it.
   * Killing or pausing it holds an election: the first node neither killed nor paused leads.
   */
  leader?: NodeId | undefined;
}

export function fakeWorld(): FakeWorld {
  return {
    calls: [],
    registers: new Map(),
    killed: new Set(),
    paused: new Set(),
    lyingNodes: new Set(),
    failOn: new Set(),
    refuseAll: false,
    resumeWaiters: [],
  };
}

export function fakeBackend(
  world: FakeWorld,
  capabilities: Capability[] = ['kill', 'pause', 'partition'],
): Backend {
  return {
    name: 'fake',
    capabilities: new Set(capabilities),
    async createCluster(options: ClusterOptions): Promise<Cluster> {
      world.calls.push('createCluster');
      if (world.failOn.has('createCluster')) {
        // What a node that cannot start says on its stderr.
        mkdirSync(join(options.logsDir, 'n1'), { recursive: true });
        writeFileSync(
          join(options.logsDir, 'n1', 'stderr.log'),
          '--- faultline: starting n1\nerror: --storage "floppy": Invalid option\n',
        );
        throw new Error('fake: node n1 did not come up');
      }
      // A call named by its first word in failOn throws (`kill n2` fails when 'kill' is set).
      const step = (name: string) => {
        world.calls.push(name);
        const method = name.split(' ')[0] as 'kill';
        if (world.failOn.has(method)) throw new Error(`fake: ${name} failed`);
      };
      const elect = (lost: NodeId) => {
        if (world.leader !== lost) return;
        world.leader = options.nodes.find((n) => !world.killed.has(n) && !world.paused.has(n));
      };
      const wakePaused = () => {
        for (const w of world.resumeWaiters.splice(0)) w();
      };
      return {
        nodes: options.nodes,
        spares: [],
        clientAddress: (node): HostPort => ({ host: 'fake', port: options.nodes.indexOf(node) }),
        peerAddress: (node): HostPort => ({ host: 'fake-peer', port: options.nodes.indexOf(node) }),
        async addNode(node) {
          throw new Error(`the fake cluster has no pool (${node})`);
        },
        async removeNode(node) {
          throw new Error(`the fake cluster has no pool (${node})`);
        },
        async kill(node) {
          step(`kill ${node}`);
          world.killed.add(node);
          elect(node);
        },
        async start(node) {
          step(`start ${node}`);
          world.killed.delete(node);
        },
        async pause(node) {
          step(`pause ${node}`);
          world.paused.add(node);
          elect(node);
        },
        async resume(node) {
          step(`resume ${node}`);
          world.paused.delete(node);
          wakePaused();
        },
        async partition(grudge: Grudge) {
          step(`partition ${JSON.stringify(grudge)}`);
        },
        async heal() {
          step('heal');
        },
        async setLink() {},
        async setClock() {},
        async healAll() {
          world.calls.push('healAll');
          world.killed.clear();
          world.paused.clear();
          wakePaused();
          if (world.failOn.has('healAll')) throw new Error('fake: healAll failed');
        },
        async teardown() {
          step('teardown');
        },
      };
    },
    async clean() {
      return { removed: [] };
    },
  };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

export function fakeClientFactory(world: FakeWorld): ClientFactory<Op> {
  return {
    errors: new ErrorRegistry([
      {
        name: 'cas precondition failed',
        type: 'fail',
        match: (e) => e instanceof OpError && e.code === 'precondition',
      },
      {
        name: 'connection refused',
        type: 'fail',
        unavailable: true,
        match: (e) => hasCode(e, 'ECONNREFUSED'),
      },
    ]),
    open(node: NodeId): Client<Op> {
      if (world.failOn.has('open')) throw new Error('fake: cannot open a client');
      return {
        async invoke(op, signal) {
          // An async hop, as a network round trip.
          await new Promise((r) => setImmediate(r));
          if (world.killed.has(node) || world.refuseAll) throw refused();
          if (world.paused.has(node)) {
            await new Promise<void>((resolve, reject) => {
              world.resumeWaiters.push(resolve);
              signal.addEventListener('abort', () => reject(signal.reason), { once: true });
            });
          }
          const key = String(op.key);
          const current = world.registers.get(key) ?? null;
          switch (op.f) {
            case 'read':
              return { value: world.lyingNodes.has(node) ? null : current };
            case 'write':
              world.registers.set(key, op.value);
              return {};
            case 'cas': {
              const [from, to] = op.value as [unknown, unknown];
              if (JSON.stringify(current) !== JSON.stringify(from)) {
                throw new OpError('precondition', 'cas precondition failed');
              }
              world.registers.set(key, to);
              return {};
            }
            default:
              throw new OpError('unsupported', op.f);
          }
        },
        async close() {},
      };
    },
  };
}

/** `leader: true`: the system has a leader hook, answering `world.leader`. */
export function fakeSystem(world: FakeWorld, options: { leader?: boolean } = {}): SystemDefinition {
  const system: SystemDefinition = {
    name: 'fake',
    recipe: () => ({
      name: 'fake',
      clockFaults: false,
      launch: () => ({ command: 'true', args: [], env: {} }),
      healthy: async () => true,
    }),
    clients: { register: fakeClientFactory(world) },
  };
  if (options.leader === true) {
    system.leader = async (cluster) => {
      world.calls.push(`leader? ${cluster.nodes.join(',')}`);
      return world.leader;
    };
  }
  return system;
}

interface PlannedFault {
  atMs: number;
  action: 'kill' | 'pause';
  node: NodeId;
  forMs: number;
}

/** A nemesis with a fixed plan: kill or pause a node at a time for a while, per the spec's faults. */
export function fakeNemesis(world: FakeWorld): NemesisDriver {
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        r();
      });
    });
  return {
    requiredCapabilities: (spec: NemesisSpec) => spec.faults as Capability[],
    plan(spec, nodes, rng, timeLimitMs) {
      world.calls.push('plan');
      const faults: PlannedFault[] = [];
      for (let at = 50; at < timeLimitMs - 100; at += 400) {
        if (spec.faults.length === 0) break;
        const action = rng.pick(spec.faults) as 'kill' | 'pause';
        // Pauses outlast a short op timeout (info); kills are brief (refused: fail).
        faults.push({
          atMs: at,
          action,
          node: rng.pick(nodes),
          forMs: action === 'pause' ? 300 : 60,
        });
      }
      return faults;
    },
    async run(plan, cluster, io) {
      const start = io.now() / 1e6;
      for (const f of plan as PlannedFault[]) {
        await sleep(Math.max(0, f.atMs - (io.now() / 1e6 - start)), io.signal);
        if (io.signal.aborted) return;
        io.record({ process: 'nemesis', type: 'info', f: f.action, value: [f.node] });
        await (f.action === 'kill' ? cluster.kill(f.node) : cluster.pause(f.node));
        await sleep(f.forMs, io.signal);
        if (io.signal.aborted) return; // left for the runner's healAll
        await (f.action === 'kill' ? cluster.start(f.node) : cluster.resume(f.node));
        io.record({
          process: 'nemesis',
          type: 'info',
          f: f.action === 'kill' ? 'start' : 'resume',
          value: [f.node],
        });
      }
    },
  };
}
