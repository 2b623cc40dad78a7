/**
 * What a backend gives the runner: a cluster of named nodes and a small set of fault
 * primitives (DESIGN.md, "Backends"). The nemesis only ever calls these primitives; clients
 * only ever use `clientAddress`. Every backend (local processes, docker) implements this and
 * passes the same conformance suite.
 */

import type { Rng } from './random.js';

export type NodeId = string;

/** node → the nodes whose traffic it drops (both directions are listed explicitly). */
export type Grudge = Record<NodeId, NodeId[]>;

export interface LinkFault {
  /** Added one-way delay on traffic leaving the node, ms. */
  delayMs?: number;
  /** Uniform jitter added to the delay, ms. */
  jitterMs?: number;
  /** Probability in [0, 1] that a packet / chunk is dropped. */
  loss?: number;
  /**
   * Bandwidth limit on traffic leaving the node, kbit/s (1 kbit = 1000 bits); absent: no
   * limit. Needs the 'link-bandwidth' capability.
   */
  rateKbit?: number;
}

export const CAPABILITIES = [
  'kill',
  'pause',
  'partition',
  'clock',
  'link-delay',
  'link-loss',
  'link-bandwidth',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface HostPort {
  host: string;
  port: number;
}

/** How to start node `node` of a system: produced by the system's recipe, run by the backend. */
export interface NodeLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Where node `node` binds and how it reaches its peers: what a launch is built from. */
export interface LaunchContext<Settings = Record<string, string>> {
  node: NodeId;
  /** Where the node must serve clients. */
  listen: HostPort;
  /** Where the node must serve its peers. */
  peerListen: HostPort;
  /**
   * `peers[p]`: the address by which THIS node reaches member p (maybe through a proxy), for
   * every member but itself when the launch is made: the initial nodes for a node started with
   * the cluster; the members at that moment for a node added later.
   */
  peers: Record<NodeId, HostPort>;
  /**
   * The same for every node of the pool (members and spares, itself excluded): where a system
   * that learns of new members at runtime can reach them. Equal to `peers` without a pool.
   */
  pool: Record<NodeId, HostPort>;
  /** True for a node added to a running cluster (Cluster.addNode), false for an initial one. */
  joining: boolean;
  /** A folder of its own that survives kills and restarts of the node. */
  dataDir: string;
  settings: Settings;
}

/**
 * How the docker backend assembles a system's node image on top of its base (which holds
 * `node`, a shell and coreutils, or `baseImage` when given). Host paths are absolute.
 */
export interface DockerImageRecipe {
  /** Host files or folders copied into the image (`to`: an absolute image path). */
  files?: { from: string; to: string }[];
  /** Host executables copied to the same path in the image, with the shared libraries ldd lists. */
  binaries?: string[];
  /** An ordinary image (e.g. `node:20-bookworm-slim`) to build on instead of faultline's base. */
  baseImage?: string;
}

/** What a backend needs to know about the system under test. */
export interface SystemRecipe {
  name: string;
  /**
   * The command for one node. `peers[p]` is the address by which THIS node reaches peer p
   * (a backend may route it through a proxy); `listen`/`peerListen` are where it must bind.
   */
  launch(ctx: LaunchContext): NodeLaunch;
  /** Resolves true once the node answers at its client address. Must not hang (own timeout). */
  healthy(client: HostPort): Promise<boolean>;
  /**
   * The docker image of a node. `launch` defaults to the local launch with host paths of the
   * image's files (and the host's `node`) replaced by their image paths.
   */
  docker?: { image: DockerImageRecipe; launch?(ctx: LaunchContext): NodeLaunch };
  /** Whether the system reads the clock through libc (clock faults work) — see the docker issue. */
  clockFaults: boolean;
}

export interface ClusterOptions {
  /** Unique per run; labels every process / container / network the run creates. */
  runId: string;
  recipe: SystemRecipe;
  nodes: NodeId[];
  /**
   * Nodes provisioned beyond `nodes` (addresses, proxies) but not started: `addNode` starts one
   * later, fresh, as a joining node. Absent: none.
   */
  spares?: NodeId[];
  settings: Record<string, string>;
  /** Node logs go to `${logsDir}/<node>/` (stdout.log, stderr.log), streamed during the run. */
  logsDir: string;
  /** Bound on waiting for every node's health check; the error names the node that did not come up. */
  startTimeoutMs: number;
  signal?: AbortSignal;
  /**
   * The run's randomness for backend-side choices (the local proxies' jitter and loss draws).
   * Optional: without it a backend derives a fixed stream from the run id.
   */
  rng?: Rng;
}

export interface Cluster {
  /** The nodes the cluster was created with. */
  readonly nodes: readonly NodeId[];
  /** The pool beyond them (ClusterOptions.spares): nodes `addNode` can start. */
  readonly spares: readonly NodeId[];
  /** Where clients connect for `node` (directly, not through the peer proxies). */
  clientAddress(node: NodeId): HostPort;
  /** Where `node` serves its peers (its `peerListen`; the local backend's proxies sit in front). */
  peerAddress(node: NodeId): HostPort;

  /** SIGKILL the node (its whole process group / container). */
  kill(node: NodeId): Promise<void>;
  /** Start a killed or stopped node again, same command and data dir; resolves when healthy. */
  start(node: NodeId): Promise<void>;
  pause(node: NodeId): Promise<void>;
  resume(node: NodeId): Promise<void>;
  /** Replace the current partition by this grudge (an empty grudge heals). */
  partition(grudge: Grudge): Promise<void>;
  heal(): Promise<void>;
  /** Set (replace) the link fault on traffic leaving `node`; an empty fault clears it. */
  setLink(node: NodeId, fault: LinkFault): Promise<void>;
  /** Offset `node`'s wall clock by `offsetMs` (0 resets). Only with the 'clock' capability. */
  setClock(node: NodeId, offsetMs: number): Promise<void>;

  /**
   * Start a node of the pool that is not running as a member (a spare, or one removed) fresh:
   * an empty data dir, launched with `joining: true` and the current members as peers.
   * Resolves when it is healthy. Telling the system it joined is the system's business.
   */
  addNode(node: NodeId): Promise<void>;
  /**
   * Stop a member for good and delete its data; it goes back to the pool. Node faults on it
   * are refused until it is added again; healAll leaves it stopped.
   */
  removeNode(node: NodeId): Promise<void>;

  /** Heal everything: resume paused, start killed, heal partitions, clear links and clocks. */
  healAll(): Promise<void>;
  /** Stop every node and remove everything the run created. Idempotent; safe after a crash. */
  teardown(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** Bring a cluster up; on failure, removes whatever it had started before rejecting. */
  createCluster(options: ClusterOptions): Promise<Cluster>;
  /** Remove leftovers of runs whose harness died (found through a run registry / labels). */
  clean(): Promise<{ removed: string[] }>;
}

/** What `healAll` has to undo on one node, as the backend knows its state. */
export interface NodeToHeal {
  node: NodeId;
  /** Paused now: resume it. */
  paused: boolean;
  /** Its clock can be set (and so may be off): reset it. */
  clock: boolean;
  /** A member that is down: start it again. */
  down: boolean;
}

/**
 * `healAll` through a cluster's own primitives, in the order each step needs: resume paused
 * nodes, reset clocks and clear every node's link faults (all nodes at once), then heal the
 * partition, then start the members that are down (a started node then finds its peers).
 */
export async function healEveryFault(
  cluster: Pick<Cluster, 'resume' | 'setClock' | 'setLink' | 'heal' | 'start'>,
  nodes: readonly NodeToHeal[],
): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      if (n.paused) await cluster.resume(n.node);
      if (n.clock) await cluster.setClock(n.node, 0);
      await cluster.setLink(n.node, {});
    }),
  );
  await cluster.heal();
  await Promise.all(nodes.map((n) => (n.down ? cluster.start(n.node) : undefined)));
}
