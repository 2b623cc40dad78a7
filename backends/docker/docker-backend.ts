import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import type {
  Backend,
  Capability,
  Cluster,
  ClusterOptions,
  Grudge,
  HostPort,
  LinkFault,
  NodeId,
  NodeLaunch,
  SystemRecipe,
} from '../../core/cluster.js';
import { CAPABILITIES, healEveryFault } from '../../core/cluster.js';
import { faketimeEnv, offsetText } from './clock.js';
import { connectDocker, idempotent } from './engine.js';
import {
  CLOCK_FILE,
  DELAY_PROXY_PATH,
  ensureBaseImage,
  ensureSystemImage,
  FAKETIME_LIB,
  type ImageRecipe,
  SHARED_DIR,
} from './images.js';
import { checkRunId, cleanDeadRuns, LABEL, removeRun, runLabels } from './labels.js';
import {
  NETEM_PROBE_LINE,
  type NetemSupport,
  netemFromProbe,
  qdiscCommands,
  qdiscTree,
  userSpaceParts,
} from './link-qdisc.js';
import { NetShell, printfOf, shellLoopCommand } from './net-shell.js';
import {
  DELAY_PROXY_UID,
  delayInPort,
  delayOutPort,
  delayRules,
  LINK_CHAIN,
  linkRules,
  partitionRules,
  setupScript,
} from './netfilter.js';
import { MAX_NODES, type Subnet, subnetCandidates, subnetOf } from './subnet.js';

/**
 * What this backend can do: every fault the interface has. Bandwidth is a tbf qdisc. Delay, jitter and loss are a netem
 * qdisc where the kernel has netem (probed at cluster start), else delay and jitter go through
 * a user-space delay proxy in the node's network namespace and loss through iptables statistic.
 */
export const DOCKER_CAPABILITIES: ReadonlySet<Capability> = new Set(CAPABILITIES);

/** Ports inside every node's own network namespace. */
export const CLIENT_PORT = 8000;
export const PEER_PORT = 8001;

export interface DockerBackendOptions {
  /** An engine client (default: one from DOCKER_HOST, checked with a ping). */
  docker?: Dockerode;
  /**
   * An ordinary image (e.g. `node:20-bookworm-slim`) to layer the system on instead of the
   * base assembled from host files. Default: FAULTLINE_DOCKER_BASE_IMAGE, else the assembled
   * base. The network containers always use the assembled base (it has iptables and tc).
   */
  baseImage?: string;
  /** Image recipes by system name, over the ones the systems' definitions carry (tests). */
  imageRecipes?: Record<string, ImageRecipe>;
  /** Pause between health probes while a node starts (default 50 ms). */
  healthPollMs?: number;
}

export function createDockerBackend(options: DockerBackendOptions = {}): Backend {
  const engine = () => (options.docker ? Promise.resolve(options.docker) : connectDocker());
  return {
    name: 'docker',
    capabilities: DOCKER_CAPABILITIES,
    createCluster: async (clusterOptions) =>
      DockerCluster.create(await engine(), clusterOptions, options),
    clean: async () => {
      let docker: Dockerode;
      try {
        docker = await engine();
      } catch {
        return { removed: [] }; // no engine, nothing of ours can be running
      }
      return { removed: await cleanDeadRuns(docker) };
    },
  };
}

type NodeState = 'up' | 'down' | 'paused';

interface Slot {
  node: NodeId;
  index: number;
  ip: string;
  net: string; // network container id
  shell: NetShell; // the network container's shell loop
  container: string; // node container id ('' while the node is not a member)
  state: NodeState;
  member: boolean; // started with the cluster or added, not removed since
  stdout: WriteStream;
  stderr: WriteStream;
  logStream?: NodeJS.ReadableStream;
  rules: string; // partition rules in force
  link: string; // link rules in force
  delay: string; // "DELAY_MS JITTER_MS" in force
  delayProxy: boolean; // the delay proxy runs and peer connections go through it
  qdisc: ReturnType<typeof qdiscTree>; // link qdiscs in force on the interface
}

/** The shell line applying iptables-restore input atomically (never touching other chains). */
const restoreLine = (rules: string) => `${printfOf(rules)} | iptables-restore -w --noflush`;

const DELAY_FILE = `${SHARED_DIR}/delay`;
const DELAY_READY = `${SHARED_DIR}/delay-proxy.ready`;

/**
 * The shell line setting a node's link delay. The first time: start the delay proxy in the
 * network container, wait until it listens, send peer connections through it (DNAT in our own
 * nat chains), and reset the peer connections already open (`ss -K`) so that they reconnect
 * through it. Later: rewrite the delay file and tell the proxy (SIGHUP). The proxy stays on
 * the path once started (a delay of 0 passes bytes at once).
 */
function delayLine(slot: Slot, peers: readonly Slot[], delay: string): string {
  const write = `${printfOf(delay)} > ${DELAY_FILE}.new && mv ${DELAY_FILE}.new ${DELAY_FILE}`;
  if (slot.delayProxy) return `${write} && kill -HUP "$(cat ${DELAY_READY})"`;
  const listeners = peers.flatMap((p) => [
    `o${delayOutPort(p.index)}=${p.ip}`,
    `i${delayInPort(p.index)}=${p.ip}`,
  ]);
  const start = `node ${DELAY_PROXY_PATH} ${SHARED_DIR} ${slot.ip} ${PEER_PORT} ${DELAY_PROXY_UID} ${listeners.join(' ')} > ${SHARED_DIR}/delay-proxy.log 2>&1 &`;
  const wait = `n=0; while [ ! -s ${DELAY_READY} ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; [ -s ${DELAY_READY} ] || { cat ${SHARED_DIR}/delay-proxy.log; false; }`;
  const nat = `${printfOf(delayRules(slot.ip, PEER_PORT, peers))} | iptables-restore -w --noflush`;
  const reset = peers
    .map(
      (p) =>
        `ss -K -t dst ${p.ip} dport = :${PEER_PORT} >/dev/null; ss -K -t dst ${p.ip} sport = :${PEER_PORT} >/dev/null`,
    )
    .join('; ');
  return `${write} && { ${start} } && ${wait} && ${nat} && { ${reset}; true; }`;
}

/** With FAULTLINE_DOCKER_TRACE=1, prints how long each step of a cluster start took. */
function phaseTrace(runId: string): (what: string) => void {
  if (process.env.FAULTLINE_DOCKER_TRACE !== '1') return () => undefined;
  const t0 = performance.now();
  return (what) =>
    process.stderr.write(`[docker ${runId}] +${(performance.now() - t0).toFixed(0)} ms ${what}\n`);
}

/** Where a container's name can take a run id and node name from. */
const nameOf = (runId: string, node: string, role: 'node' | 'net') =>
  `faultline-${runId}-${node}${role === 'net' ? '-net' : ''}`.replace(/[^A-Za-z0-9_.-]/g, '-');

/**
 * A system's image recipe: the backend's own override by name (tests), else the one the
 * system's definition carries; a system without one cannot run here.
 */
export function imageRecipeOf(
  recipe: SystemRecipe,
  backendOptions: Pick<DockerBackendOptions, 'imageRecipes'>,
): ImageRecipe {
  const own = backendOptions.imageRecipes?.[recipe.name];
  if (own !== undefined) return own;
  const image = recipe.docker?.image;
  if (image === undefined) {
    throw new Error(
      `system ${recipe.name} has no docker image recipe: give its definition docker: { image: {...} }`,
    );
  }
  return {
    files: image.files ?? [],
    ...(image.binaries !== undefined ? { binaries: image.binaries } : {}),
    ...(image.baseImage !== undefined ? { baseImage: image.baseImage } : {}),
  };
}

/** The launch as it runs in the image: host paths of the recipe's files mapped to image paths. */
export function mapLaunch(launch: NodeLaunch, recipe: ImageRecipe): NodeLaunch {
  const mapPath = (s: string): string => {
    if (s === process.execPath) return 'node';
    for (const f of recipe.files) {
      if (s === f.from || s.startsWith(`${f.from}/`)) return f.to + s.slice(f.from.length);
    }
    return s;
  };
  return { command: mapPath(launch.command), args: launch.args.map(mapPath), env: launch.env };
}

/**
 * A cluster of containers on one internal bridge network. Each node is two containers: a
 * small "net" container (assembled base image, NET_ADMIN) that owns the network namespace,
 * the static address and the iptables/tc state, and the node container, which joins that
 * namespace. So a killed or paused node keeps its network state and can still be partitioned
 * (the commands run in the net container's shell, never in a frozen container), and a
 * restarted node comes back into the same namespace. The two share an anonymous volume at
 * /faultline (the clock file, the delay proxy's state).
 */
export class DockerCluster implements Cluster {
  private readonly slots = new Map<NodeId, Slot>();
  private networkId: string | undefined;
  private subnet: Subnet | undefined;
  private grudge: Grudge = {};
  private tornDown = false;
  private teardownPromise: Promise<void> | undefined;
  private readonly healthPollMs: number;
  private netemSupport: NetemSupport = 'absent';

  private peerAddresses: Record<NodeId, HostPort> = {};

  private constructor(
    private readonly docker: Dockerode,
    readonly nodes: readonly NodeId[],
    readonly spares: readonly NodeId[],
    private readonly options: ClusterOptions,
    private readonly imageRecipe: ImageRecipe,
    private readonly image: string,
    backendOptions: DockerBackendOptions,
  ) {
    this.healthPollMs = backendOptions.healthPollMs ?? 50;
  }

  static async create(
    docker: Dockerode,
    options: ClusterOptions,
    backendOptions: DockerBackendOptions,
  ): Promise<DockerCluster> {
    checkRunId(options.runId);
    const nodes = [...options.nodes];
    const spares = [...(options.spares ?? [])];
    const pool = [...nodes, ...spares];
    if (nodes.length === 0) throw new Error('docker backend: a cluster needs at least one node');
    if (pool.length > MAX_NODES) throw new Error(`docker backend: at most ${MAX_NODES} nodes`);
    if (new Set(pool).size !== pool.length) {
      throw new Error(`docker backend: node names repeat: ${pool.join(', ')}`);
    }
    const trace = phaseTrace(options.runId);
    const recipeName = options.recipe.name;
    const imageRecipe = imageRecipeOf(options.recipe, backendOptions);
    const tools = await ensureBaseImage(docker);
    trace('base image');
    const baseImage =
      backendOptions.baseImage ??
      process.env.FAULTLINE_DOCKER_BASE_IMAGE ??
      imageRecipe.baseImage ??
      tools.tag;
    const image = await ensureSystemImage(docker, recipeName, imageRecipe, baseImage);
    trace('system image');

    const cluster = new DockerCluster(
      docker,
      nodes,
      spares,
      options,
      imageRecipe,
      image.tag,
      backendOptions,
    );
    try {
      await cluster.createNetwork();
      trace('network');
      const subnet = cluster.subnet!;
      pool.forEach((n, i) => {
        cluster.peerAddresses[n] = { host: subnet.address(i), port: PEER_PORT };
      });
      // Each node's containers are created and started as one pipeline, all nodes at once; a
      // spare gets its network container (its address) now and its node container when added.
      await Promise.all(
        pool.map(async (node, index) => {
          await cluster.createNet(node, index, tools.tag, trace);
          if (!nodes.includes(node)) return cluster.waitAgent(node);
          await cluster.createNodeContainer(node, nodes, false);
          trace(`${node} created, net started`);
          await Promise.all([
            cluster.waitAgent(node).then(() => trace(`${node} agent`)),
            cluster.startNode(node).then(() => trace(`${node} healthy`)),
          ]);
        }),
      );
      await cluster.probeNetem();
      trace(`netem ${cluster.netem}`);
    } catch (err) {
      await cluster.teardown().catch(() => undefined);
      throw err;
    }
    return cluster;
  }

  private async createNetwork(): Promise<void> {
    const existing = await this.docker.listNetworks();
    const used = new Set<string>();
    for (const n of existing)
      for (const c of n.IPAM?.Config ?? []) if (c.Subnet) used.add(c.Subnet);
    const name = nameOf(this.options.runId, 'net', 'node');
    for (const third of subnetCandidates(this.options.runId, used).slice(0, 16)) {
      const subnet = subnetOf(third);
      try {
        const net = await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          Internal: true,
          CheckDuplicate: true,
          IPAM: { Driver: 'default', Config: [{ Subnet: subnet.cidr, Gateway: subnet.gateway }] },
          Labels: runLabels(this.options.runId),
        });
        this.networkId = net.id;
        this.subnet = subnet;
        return;
      } catch (err) {
        // Another run took the subnet between our listing and our create: try the next one.
        if (/overlap/i.test(String((err as Error).message))) continue;
        throw err;
      }
    }
    throw new Error('docker backend: no free /24 in 10.213.0.0/16 for the run network');
  }

  /** The node's network container (its address, iptables and tc), started; its log files. */
  private async createNet(
    node: NodeId,
    index: number,
    toolsImage: string,
    trace: (what: string) => void,
  ): Promise<void> {
    const { runId } = this.options;
    const ip = this.subnet!.address(index);
    const labels = (role: 'node' | 'net') => ({
      ...runLabels(runId),
      [LABEL.node]: node,
      [LABEL.role]: role,
    });
    const net = await this.docker.createContainer({
      name: nameOf(runId, node, 'net'),
      Image: toolsImage,
      Hostname: node,
      // Sets up the chains and the clock file (offset 0), then runs the faults it is sent.
      Cmd: shellLoopCommand(`${setupScript()} && echo +0 > ${CLOCK_FILE}`),
      OpenStdin: true,
      StdinOnce: false,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Labels: labels('net'),
      Volumes: { [SHARED_DIR]: {} },
      HostConfig: {
        NetworkMode: this.networkId!,
        CapAdd: ['NET_ADMIN'],
        Init: false,
      },
      NetworkingConfig: {
        EndpointsConfig: { [this.networkId!]: { IPAMConfig: { IPv4Address: ip } } },
      },
    });
    trace(`${node} net container created`);
    const logDir = join(this.options.logsDir, node);
    mkdirSync(logDir, { recursive: true });
    const shell = await NetShell.attach(this.docker, net.id);
    trace(`${node} net container attached`);
    const slot: Slot = {
      node,
      index,
      ip,
      net: net.id,
      shell,
      container: '',
      state: 'down',
      member: false,
      stdout: createWriteStream(join(logDir, 'stdout.log'), { flags: 'a' }),
      stderr: createWriteStream(join(logDir, 'stderr.log'), { flags: 'a' }),
      rules: '',
      link: '',
      delay: '0 0',
      delayProxy: false,
      qdisc: [],
    };
    this.slots.set(node, slot);
    await net.start();
    trace(`${node} net container started`);
  }

  /**
   * The node's own container (created, not started), in its network container's namespace,
   * launched with `members` as its peers; the node becomes a member. Its data lives in the
   * container, so a new container is a fresh node.
   */
  private async createNodeContainer(
    node: NodeId,
    members: readonly NodeId[],
    joining: boolean,
  ): Promise<void> {
    const { runId } = this.options;
    const slot = this.slot(node);
    const ip = slot.ip;
    const pool = { ...this.peerAddresses };
    delete pool[node];
    const peers = Object.fromEntries(Object.entries(pool).filter(([p]) => members.includes(p)));
    const ctx = {
      node,
      listen: { host: ip, port: CLIENT_PORT },
      peerListen: { host: ip, port: PEER_PORT },
      peers,
      pool,
      joining,
      dataDir: `/data/${node}`,
      settings: this.options.settings,
    };
    const imageRecipe = this.imageRecipe;
    // The system's own command in the image, or its local one with host paths mapped.
    const ownLaunch = this.options.recipe.docker?.launch;
    const launch =
      ownLaunch !== undefined
        ? ownLaunch(ctx)
        : mapLaunch(this.options.recipe.launch(ctx), imageRecipe);
    const env = {
      ...launch.env,
      ...(this.options.recipe.clockFaults ? faketimeEnv(FAKETIME_LIB) : {}),
      FAULTLINE_RUN_ID: runId,
    };
    const container = await this.docker.createContainer({
      name: nameOf(runId, node, 'node'),
      Image: this.image,
      Cmd: [launch.command, ...launch.args],
      Entrypoint: [],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: { ...runLabels(runId), [LABEL.node]: node, [LABEL.role]: 'node' },
      WorkingDir: '/',
      HostConfig: {
        NetworkMode: `container:${slot.net}`,
        VolumesFrom: [slot.net],
      },
    });
    slot.container = container.id;
    slot.member = true;
  }

  /** The members now: started with the cluster or added, not removed. */
  private members(): NodeId[] {
    return [...this.slots.values()].filter((s) => s.member).map((s) => s.node);
  }

  async addNode(node: NodeId): Promise<void> {
    this.live();
    if (this.slot(node).member) throw new Error(`node ${node} is already a member`);
    await this.createNodeContainer(node, [...this.members(), node], true);
    await this.startNode(node);
  }

  async removeNode(node: NodeId): Promise<void> {
    this.live();
    const slot = this.member(node);
    await this.kill(node);
    await idempotent(() => this.docker.getContainer(slot.container).remove({ force: true }));
    slot.container = '';
    slot.member = false;
  }

  /** The slot of a member: node faults on a spare or removed node are refused. */
  private member(node: NodeId): Slot {
    const s = this.slot(node);
    if (!s.member)
      throw new Error(`node ${node} is not a member of the cluster now (add it first)`);
    return s;
  }

  /**
   * Runs the netem probe in the first node's network container (all share one kernel) and
   * records the verdict, with how link faults are carried out, in every node's stdout.log.
   */
  private async probeNetem(): Promise<void> {
    const first = this.slot(this.nodes[0]!);
    const r = await first.shell.run(NETEM_PROBE_LINE);
    this.netemSupport = netemFromProbe(r.code);
    const why = r.code === 0 ? '' : ` (${r.output.trim().split('\n')[0]})`;
    const line = `--- faultline: netem ${this.netem}${why}; ${this.describeLinks()}\n`;
    for (const slot of this.slots.values()) slot.stdout.write(line);
  }

  /** Whether the kernel has netem (probed once at start): it then carries delay, jitter and loss. */
  get netem(): NetemSupport {
    return this.netemSupport;
  }

  /** How this cluster carries out link faults (depends on the netem probe). */
  describeLinks(): string {
    return this.netem === 'present'
      ? 'link delay, jitter and loss by tc netem, bandwidth by tc tbf under it'
      : 'link delay by the user-space delay proxy, loss by iptables statistic, bandwidth by tc tbf';
  }

  clientAddress(node: NodeId): HostPort {
    return { host: this.slot(node).ip, port: CLIENT_PORT };
  }

  peerAddress(node: NodeId): HostPort {
    return { host: this.slot(node).ip, port: PEER_PORT };
  }

  /** The node container's id (docker only; for tests). */
  containerId(node: NodeId): string {
    return this.slot(node).container;
  }

  /** The network container's id, where iptables and tc run (docker only; for tests). */
  netContainerId(node: NodeId): string {
    return this.slot(node).net;
  }

  async kill(node: NodeId): Promise<void> {
    this.live();
    const slot = this.member(node);
    if (slot.state === 'down') return;
    const c = this.docker.getContainer(slot.container);
    // A node that exited on its own (etcd does once removed from its cluster) is down already.
    await idempotent(() => c.kill({ signal: 'SIGKILL' })).catch((err: unknown) => {
      if (!/is not running/.test(String((err as Error).message))) throw err;
    });
    // A frozen process dies only once thawed.
    if (slot.state === 'paused') await idempotent(() => c.unpause()).catch(() => undefined);
    await this.waitStopped(node);
    slot.state = 'down';
  }

  async start(node: NodeId): Promise<void> {
    this.live();
    if (this.member(node).state !== 'down') return;
    await this.startNode(node);
  }

  async pause(node: NodeId): Promise<void> {
    this.live();
    const slot = this.member(node);
    if (slot.state === 'paused') return;
    if (slot.state !== 'up') throw new Error(`cannot pause node ${node}: it is down`);
    await this.docker.getContainer(slot.container).pause();
    slot.state = 'paused';
  }

  async resume(node: NodeId): Promise<void> {
    this.live();
    const slot = this.member(node);
    if (slot.state !== 'paused') return;
    await idempotent(() => this.docker.getContainer(slot.container).unpause());
    slot.state = 'up';
  }

  async partition(grudge: Grudge): Promise<void> {
    this.live();
    for (const [n, others] of Object.entries(grudge)) {
      this.slot(n);
      for (const o of others) this.slot(o);
    }
    this.grudge = structuredClone(grudge);
    const addressOf = (n: NodeId) => this.slot(n).ip;
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        const rules = partitionRules(slot.node, this.grudge, addressOf, this.nodes);
        if (rules === slot.rules) return;
        await slot.shell.ok(restoreLine(rules), `partition on ${slot.node}`);
        slot.rules = rules;
      }),
    );
  }

  async heal(): Promise<void> {
    await this.partition({});
  }

  async setLink(node: NodeId, fault: LinkFault): Promise<void> {
    this.live();
    const slot = this.slot(node);
    const delayMs = fault.delayMs ?? 0;
    const jitterMs = fault.jitterMs ?? 0;
    for (const [what, v] of [
      ['delayMs', delayMs],
      ['jitterMs', jitterMs],
    ] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new Error(`link ${what} must be ≥ 0, got ${v}`);
    }
    // Validated (a bad rateKbit throws) before anything changes.
    const tree = qdiscTree(fault, this.netem);
    const user = userSpaceParts(fault, this.netem);
    const peers = [...this.slots.values()].filter((s) => s !== slot);
    const rules = linkRules(
      user.loss ?? 0,
      peers.map((s) => s.ip),
    );
    if (rules !== slot.link) {
      await slot.shell.ok(restoreLine(rules), `${LINK_CHAIN} on ${node}`);
      slot.link = rules;
    }
    const tc = qdiscCommands(slot.qdisc, tree);
    if (tc.length > 0) {
      await slot.shell.ok(tc.join(' && '), `link qdiscs on ${node}`);
      slot.qdisc = tree;
    }
    const delay = `${Math.round(user.delayMs ?? 0)} ${Math.round(user.jitterMs ?? 0)}`;
    if (delay === slot.delay) return;
    if (!slot.delayProxy && delay === '0 0') {
      slot.delay = delay;
      return;
    }
    await slot.shell.ok(delayLine(slot, peers, delay), `link delay on ${node}`);
    slot.delay = delay;
    slot.delayProxy = true;
  }

  async setClock(node: NodeId, offsetMs: number): Promise<void> {
    this.live();
    const slot = this.slot(node);
    if (!this.options.recipe.clockFaults) {
      throw new Error(
        `the ${this.options.recipe.name} system does not support clock faults (it reads the clock without libc)`,
      );
    }
    const text = offsetText(offsetMs);
    await slot.shell.ok(
      `${printfOf(text)} > ${CLOCK_FILE}.new && mv ${CLOCK_FILE}.new ${CLOCK_FILE}`,
      `clock on ${node}`,
    );
  }

  async healAll(): Promise<void> {
    this.live();
    await healEveryFault(
      this,
      [...this.slots.values()].map((s) => ({
        node: s.node,
        paused: s.state === 'paused',
        clock: this.options.recipe.clockFaults,
        down: s.member && s.state === 'down',
      })),
    );
  }

  teardown(): Promise<void> {
    this.teardownPromise ??= this.doTeardown();
    return this.teardownPromise;
  }

  private async doTeardown(): Promise<void> {
    this.tornDown = true;
    try {
      await removeRun(this.docker, this.options.runId);
    } finally {
      for (const slot of this.slots.values()) {
        slot.shell.close();
        slot.logStream?.removeAllListeners();
        slot.stdout.end();
        slot.stderr.end();
      }
    }
  }

  /** Attaches the log streams, starts the node container and waits for its health. */
  private async startNode(node: NodeId): Promise<void> {
    const slot = this.slot(node);
    const c = this.docker.getContainer(slot.container);
    const stream = await c.attach({ stream: true, stdout: true, stderr: true, logs: false });
    slot.logStream = stream;
    slot.stdout.write(`--- faultline: starting ${node} at ${new Date().toISOString()}\n`);
    // Our own sinks: the files must stay open across restarts (demux would end them).
    this.docker.modem.demuxStream(
      stream,
      { write: (b: Buffer) => slot.stdout.write(b) } as unknown as NodeJS.WritableStream,
      { write: (b: Buffer) => slot.stderr.write(b) } as unknown as NodeJS.WritableStream,
    );
    await c.start();
    slot.state = 'up';
    await this.waitHealthy(node);
  }

  /** Waits until the node's network shell answers (its chains are then in place). */
  private async waitAgent(node: NodeId): Promise<void> {
    const slot = this.slot(node);
    try {
      await slot.shell.ok('true', `network container of node ${node}`);
    } catch (err) {
      const logs = await this.docker
        .getContainer(slot.net)
        .logs({ stdout: true, stderr: true, tail: 20 })
        .then((b) =>
          b
            .toString('utf8')
            .replace(/[^\x20-\x7e\n]/g, '')
            .trim(),
        )
        .catch(() => '');
      throw new Error(
        `the network container of node ${node} did not come up: ${(err as Error).message}${logs ? `: ${logs}` : ''}`,
      );
    }
  }

  private async waitStopped(node: NodeId): Promise<void> {
    const c = this.docker.getContainer(this.slot(node).container);
    for (let i = 0; i < 600; i++) {
      const info = await c.inspect();
      if (!info.State.Running) return;
      await sleep(20);
    }
    throw new Error(`node ${node} did not stop after SIGKILL`);
  }

  private async waitHealthy(node: NodeId): Promise<void> {
    const slot = this.slot(node);
    const deadline = performance.now() + this.options.startTimeoutMs;
    const signal = this.options.signal;
    const c = this.docker.getContainer(slot.container);
    let probes = 0;
    for (;;) {
      if (signal?.aborted) throw new Error(`start of node ${node} aborted`);
      if (this.tornDown) throw new Error(`start of node ${node}: the cluster was torn down`);
      let ok = false;
      try {
        ok = await this.options.recipe.healthy(this.clientAddress(node));
      } catch {
        ok = false;
      }
      if (ok) return;
      probes++;
      if (probes % 10 === 0) {
        const info = await c.inspect();
        if (!info.State.Running) {
          slot.state = 'down';
          throw new Error(
            `node ${node} exited while starting (exit code ${info.State.ExitCode}); see ${join(this.options.logsDir, node, 'stderr.log')}`,
          );
        }
      }
      if (performance.now() >= deadline) {
        throw new Error(
          `node ${node} did not become healthy within ${this.options.startTimeoutMs} ms at ${slot.ip}:${CLIENT_PORT}; see ${join(this.options.logsDir, node)}/stderr.log and stdout.log`,
        );
      }
      await sleep(this.healthPollMs);
    }
  }

  private slot(node: NodeId): Slot {
    const s = this.slots.get(node);
    if (s === undefined) {
      throw new Error(`unknown node ${JSON.stringify(node)} (nodes: ${this.nodes.join(', ')})`);
    }
    return s;
  }

  private live(): void {
    if (this.tornDown) throw new Error(`run ${this.options.runId}: the cluster was torn down`);
  }
}
