import type { Client, Op } from '../../core/client.js';
import type { Cluster, NodeId } from '../../core/cluster.js';
import type { MembershipIO, NemesisDriver, NemesisIO } from '../../core/nemesis.js';
import type { Rng } from '../../core/random.js';
import type { MembershipHooks, MembershipView, SystemDefinition } from '../../core/system.js';
import type { Gen } from '../../generators/index.js';
import { stagger, timeLimit } from '../../generators/index.js';
import type { Workload } from '../../workloads/index.js';
import { interpret, type ProcessTable } from '../interpreter.js';
import { errorText } from './errors.js';
import type { RunSession } from './session.js';

/** Runs the clients over a generator until it ends; each worker draws from its own stream. */
export type Drive = (gen: Gen<Op>, phaseLabel: string) => Promise<void>;

export interface DriverInput {
  session: RunSession;
  clients: readonly Client<Op>[];
  nodes: readonly NodeId[];
  processes: ProcessTable;
  workload: Pick<Workload, 'client'>;
  rng: Rng;
  opTimeoutMs: number;
}

/** The clients as one driver, used by the main phase and the final phase alike. */
export function driver(input: DriverInput): Drive {
  const { session, clients, nodes, processes, workload, rng } = input;
  return async (gen, phaseLabel) => {
    await interpret({
      gen,
      processes,
      client: (t) => clients[t] as Client<Op>,
      node: (t) => nodes[t % nodes.length] as NodeId,
      errors: workload.client.errors,
      rng: (t) => rng.fork(`${phaseLabel}/thread-${t}`),
      sink: session.recorder,
      opTimeoutMs: input.opTimeoutMs,
      signal: session.signal,
      onCompletion: (e) => session.countCompletion(e),
    });
  };
}

export interface MainPhaseInput {
  session: RunSession;
  drive: Drive;
  cluster: Cluster;
  nemesis: NemesisDriver;
  /**
   * The system under test: its `leader` hook, when it has one, tells the nemesis who leads; its
   * `membership` hooks carry out membership faults.
   */
  system?: Pick<SystemDefinition, 'leader' | 'membership'>;
  /** The run's system settings (for the membership hooks' minimum). */
  settings?: Record<string, string>;
  plan: unknown;
  workload: Pick<Workload, 'generator'>;
  timeLimitS: number;
  rate: number;
}

/**
 * Stage 3, drive with nemesis: the clients run the workload at the spec's rate until the time
 * limit while the nemesis carries out its plan; both stop at the limit or on the run's signal.
 * A nemesis that fails is recorded (`nemesis-error`) and is a problem of the run.
 */
export async function mainPhase(input: MainPhaseInput): Promise<void> {
  const { session, cluster } = input;
  session.setPhase('main');
  session.mainStart = session.recorder.now();
  const nemesisStop = new AbortController();
  const stopNemesis = () => nemesisStop.abort();
  session.signal.addEventListener('abort', stopNemesis, { once: true });
  const deadline = setTimeout(stopNemesis, input.timeLimitS * 1000);
  const io: NemesisIO = {
    record: (e) => session.recordNemesis(e),
    now: () => session.recorder.now(),
    signal: nemesisStop.signal,
  };
  const system = input.system;
  if (system?.leader !== undefined) {
    // Faults aimed at the leader ask the system at their start; stopping the nemesis stops that too.
    // Every node of the pool: one added by a membership fault may lead.
    io.leader = () =>
      system.leader?.({
        nodes: [...cluster.nodes, ...cluster.spares],
        clientAddress: (node) => cluster.clientAddress(node),
        signal: nemesisStop.signal,
      }) ?? Promise.resolve(undefined);
  }
  if (system?.membership !== undefined) {
    io.membership = membershipIO(
      system.membership,
      cluster,
      input.settings ?? {},
      nemesisStop.signal,
    );
  }
  const nemesisRun = input.nemesis.run(input.plan, cluster, io).catch((e: unknown) => {
    session.recordNemesis({
      process: 'nemesis',
      type: 'info',
      f: 'nemesis-error',
      error: errorText(e),
    });
    session.problem(`the nemesis stopped early: ${errorText(e)}`);
  });
  try {
    await input.drive(
      timeLimit(input.timeLimitS * 1e9, stagger(1e9 / input.rate, input.workload.generator)),
      'ops',
    );
  } finally {
    stopNemesis();
    clearTimeout(deadline);
    session.signal.removeEventListener('abort', stopNemesis);
    await nemesisRun;
  }
}

/** The fewest members a system keeps when its membership hooks do not say. */
export const DEFAULT_MIN_MEMBERS = 2;

/**
 * Membership changes for the nemesis: the system's hooks, given the members now and the start or
 * stop of the node in the cluster's pool. The member set changes only once a hook resolved.
 */
export function membershipIO(
  hooks: MembershipHooks,
  cluster: Cluster,
  settings: Record<string, string>,
  signal: AbortSignal,
): MembershipIO {
  const pool = [...cluster.nodes, ...cluster.spares];
  const members = new Set<NodeId>(cluster.nodes);
  const view = (): MembershipView => ({
    nodes: cluster.nodes,
    members: pool.filter((n) => members.has(n)),
    clientAddress: (node) => cluster.clientAddress(node),
    peerAddress: (node) => cluster.peerAddress(node),
    signal,
  });
  return {
    members: () => pool.filter((n) => members.has(n)),
    spares: () => pool.filter((n) => !members.has(n)),
    minMembers: hooks.minMembers?.(settings, cluster.nodes.length) ?? DEFAULT_MIN_MEMBERS,
    async join(node) {
      await hooks.join(view(), node, () => cluster.addNode(node));
      members.add(node);
    },
    async leave(node) {
      await hooks.leave(view(), node, () => cluster.removeNode(node));
      members.delete(node);
    },
  };
}
