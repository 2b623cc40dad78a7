import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  Backend,
  Capability,
  Cluster,
  ClusterOptions,
  Grudge,
  HostPort,
  LinkFault,
  NodeId,
} from '../../core/cluster.js';
import { processAlive } from '../../core/process.js';
import { Rng } from '../../core/random.js';
import { ProxyMesh } from './mesh.js';
import { NodeProcess, signalGroup } from './node-process.js';
import { reservePorts } from './ports.js';
import {
  canScanProcesses,
  checkRunId,
  defaultRegistryDir,
  processesOfRun,
  type RunEntry,
  readRunEntries,
  removeRunEntry,
  writeRunEntry,
} from './registry.js';

export const LOCAL_CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>([
  'kill',
  'pause',
  'partition',
  'link-delay',
  'link-loss',
]);

export interface LocalBackendOptions {
  /** Where run registry files live (default `os.tmpdir()/faultline/runs`). */
  registryDir?: string;
  /**
   * Parent of the runs' data dirs. Default `os.tmpdir()/faultline/data`, where each run gets
   * `<runId>/<node>/`, owned by the run and removed at teardown. With a root given here the
   * run's folder is kept after teardown (for inspection).
   */
  dataRoot?: string;
  /** Loopback address nodes and proxies bind (default 127.0.0.1). */
  host?: string;
  /** Pause between health probes while a node starts (default 20 ms). */
  healthPollMs?: number;
}

export function createLocalBackend(options: LocalBackendOptions = {}): Backend {
  const registryDir = options.registryDir ?? defaultRegistryDir();
  return {
    name: 'local',
    capabilities: LOCAL_CAPABILITIES,
    createCluster: (clusterOptions) => LocalCluster.create(clusterOptions, options, registryDir),
    clean: async () => cleanLeftovers(registryDir),
  };
}

interface NodeSlot {
  /** Absent for a node of the pool never started (the launch is made when it is added). */
  process: NodeProcess | undefined;
  client: HostPort;
  peer: HostPort;
  dataDir: string;
  /** Started with the cluster or added, and not removed since. */
  member: boolean;
}

/** A cluster of child processes on loopback whose peer traffic goes through a ProxyMesh. */
export class LocalCluster implements Cluster {
  private readonly slots = new Map<NodeId, NodeSlot>();
  private tornDown = false;
  private teardownPromise: Promise<void> | undefined;

  private constructor(
    readonly nodes: readonly NodeId[],
    readonly spares: readonly NodeId[],
    private readonly options: ClusterOptions,
    private readonly mesh: ProxyMesh,
    private readonly registryDir: string,
    private readonly runDataDir: string,
    private readonly ownsDataDir: boolean,
    private readonly healthPollMs: number,
  ) {}

  static async create(
    options: ClusterOptions,
    backendOptions: LocalBackendOptions,
    registryDir: string,
  ): Promise<LocalCluster> {
    checkRunId(options.runId);
    const nodes = [...options.nodes];
    const spares = [...(options.spares ?? [])];
    const pool = [...nodes, ...spares];
    if (nodes.length === 0) throw new Error('local backend: a cluster needs at least one node');
    if (new Set(pool).size !== pool.length) {
      throw new Error(`local backend: node names repeat: ${pool.join(', ')}`);
    }
    const host = backendOptions.host ?? '127.0.0.1';
    const ownsDataDir = backendOptions.dataRoot === undefined;
    const runDataDir = join(
      backendOptions.dataRoot ?? join(tmpdir(), 'faultline', 'data'),
      options.runId,
    );

    // Proxies first (they hold their ports), then the nodes' ports, which the proxies need only
    // when a connection arrives.
    const slots = new Map<NodeId, NodeSlot>();
    const mesh = await ProxyMesh.create({
      nodes: pool,
      host,
      target: (node) => {
        const slot = slots.get(node);
        if (slot === undefined) throw new Error(`proxy: node ${node} has no address yet`);
        return slot.peer;
      },
      rng: options.rng?.fork('proxy-mesh') ?? new Rng(0, `proxy-mesh/${options.runId}`),
    });
    const cluster = new LocalCluster(
      nodes,
      spares,
      options,
      mesh,
      registryDir,
      runDataDir,
      ownsDataDir,
      backendOptions.healthPollMs ?? 20,
    );
    try {
      const avoid = new Set<number>();
      for (const e of readRunEntries(registryDir).entries) {
        for (const p of [...Object.values(e.clientPorts), ...Object.values(e.peerPorts)]) {
          avoid.add(p);
        }
      }
      const ports = await reservePorts(pool.length * 2, {
        host,
        avoid,
        startHint: hashString(options.runId),
      });
      pool.forEach((node, i) => {
        const client = { host, port: ports[2 * i]! };
        const peer = { host, port: ports[2 * i + 1]! };
        const dataDir = join(runDataDir, node);
        slots.set(node, { process: undefined, client, peer, dataDir, member: false });
      });
      for (const [node, slot] of slots) cluster.slots.set(node, slot);
      for (const node of nodes) cluster.launchNode(node, nodes, false);
      cluster.saveRegistry();
      for (const node of nodes) cluster.slot(node).process?.spawn();
      cluster.saveRegistry();
      await Promise.all(nodes.map((n) => cluster.waitHealthy(n)));
    } catch (err) {
      await cluster.teardown().catch(() => undefined);
      throw err;
    }
    return cluster;
  }

  /** Makes `node`'s process (not yet spawned) with a fresh data dir, as a member. */
  private launchNode(node: NodeId, members: readonly NodeId[], joining: boolean): NodeProcess {
    const slot = this.slot(node);
    rmSync(slot.dataDir, { recursive: true, force: true });
    mkdirSync(slot.dataDir, { recursive: true });
    const pool = this.mesh.peersFor(node);
    const peers = Object.fromEntries(
      Object.entries(pool).filter(([p]) => p !== node && members.includes(p)),
    );
    const launch = this.options.recipe.launch({
      node,
      listen: slot.client,
      peerListen: slot.peer,
      peers,
      pool,
      joining,
      dataDir: slot.dataDir,
      settings: this.options.settings,
    });
    slot.process = new NodeProcess(
      node,
      launch,
      join(this.options.logsDir, node),
      this.options.runId,
    );
    slot.member = true;
    return slot.process;
  }

  /** The members now: started with the cluster or added, not removed. */
  private members(): NodeId[] {
    return [...this.slots].filter(([, s]) => s.member).map(([n]) => n);
  }

  async addNode(node: NodeId): Promise<void> {
    this.live();
    if (this.slot(node).member) throw new Error(`node ${node} is already a member`);
    const proc = this.launchNode(node, [...this.members(), node], true);
    proc.spawn();
    this.saveRegistry();
    await this.waitHealthy(node);
  }

  async removeNode(node: NodeId): Promise<void> {
    this.live();
    const slot = this.member(node);
    await slot.process?.kill();
    slot.member = false;
    rmSync(slot.dataDir, { recursive: true, force: true });
    this.saveRegistry();
  }

  clientAddress(node: NodeId): HostPort {
    return { ...this.slot(node).client };
  }

  peerAddress(node: NodeId): HostPort {
    return { ...this.slot(node).peer };
  }

  /** The node's data dir (local backend only). */
  dataDir(node: NodeId): string {
    return this.slot(node).dataDir;
  }

  /** The pid (= process group id) of the node's current process, if it runs (local only). */
  pid(node: NodeId): number | undefined {
    return this.slot(node).process?.pid;
  }

  /** Every pid this cluster has started and not yet seen exit (local only; for tests). */
  pids(): number[] {
    return [...this.slots.values()].flatMap((s) =>
      s.process?.pid === undefined ? [] : [s.process.pid],
    );
  }

  async kill(node: NodeId): Promise<void> {
    this.live();
    await this.member(node).process.kill();
    this.saveRegistry();
  }

  async start(node: NodeId): Promise<void> {
    this.live();
    const slot = this.member(node);
    if (slot.process.state !== 'down') return;
    slot.process.spawn();
    this.saveRegistry();
    await this.waitHealthy(node);
  }

  async pause(node: NodeId): Promise<void> {
    this.live();
    this.member(node).process.pause();
  }

  async resume(node: NodeId): Promise<void> {
    this.live();
    this.member(node).process.resume();
  }

  async partition(grudge: Grudge): Promise<void> {
    this.live();
    this.mesh.setGrudge(grudge);
  }

  async heal(): Promise<void> {
    this.live();
    this.mesh.setGrudge({});
  }

  async setLink(node: NodeId, fault: LinkFault): Promise<void> {
    this.live();
    this.mesh.setLink(node, fault);
  }

  async setClock(node: NodeId, offsetMs: number): Promise<void> {
    this.slot(node);
    if (offsetMs === 0) return;
    throw new Error(
      'the local backend cannot do clock faults (capability "clock"): nodes share the host clock; use the docker backend',
    );
  }

  /** The partition in force (local only; for tests and the progress line). */
  currentGrudge(): Grudge {
    return this.mesh.grudge();
  }

  async healAll(): Promise<void> {
    this.live();
    this.mesh.setGrudge({});
    this.mesh.clearLinks();
    const members = this.members();
    for (const node of members) {
      const proc = this.member(node).process;
      if (proc.state === 'paused') proc.resume();
    }
    await Promise.all(
      members.map((node) =>
        this.member(node).process.state === 'down' ? this.start(node) : Promise.resolve(),
      ),
    );
  }

  teardown(): Promise<void> {
    this.teardownPromise ??= this.doTeardown();
    return this.teardownPromise;
  }

  private async doTeardown(): Promise<void> {
    this.tornDown = true;
    const errors: string[] = [];
    await Promise.all(
      [...this.slots].map(async ([node, s]) => {
        try {
          await s.process?.kill();
        } catch (err) {
          errors.push(`kill ${node}: ${String(err)}`);
        }
      }),
    );
    // Anything else that carries the run's mark (a node's own children that left its group).
    for (const pid of processesOfRun(this.options.runId)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.mesh.close();
    if (this.ownsDataDir) rmSync(this.runDataDir, { recursive: true, force: true });
    removeRunEntry(this.registryDir, this.options.runId);
    if (errors.length > 0)
      throw new Error(`teardown of run ${this.options.runId}: ${errors.join('; ')}`);
  }

  private async waitHealthy(node: NodeId): Promise<void> {
    const slot = this.member(node);
    const deadline = performance.now() + this.options.startTimeoutMs;
    const signal = this.options.signal;
    for (;;) {
      if (signal?.aborted) throw new Error(`start of node ${node} aborted`);
      if (this.tornDown) throw new Error(`start of node ${node}: the cluster was torn down`);
      const exit = slot.process.exited;
      if (slot.process.state === 'down') {
        throw new Error(
          `node ${node} exited while starting (exit code ${exit?.exitCode ?? '?'}${
            exit?.signal ? `, ${exit.signal}` : ''
          }); see ${slot.process.stderrLog}`,
        );
      }
      let ok = false;
      try {
        ok = await this.options.recipe.healthy(slot.client);
      } catch {
        ok = false;
      }
      if (ok) return;
      if (performance.now() >= deadline) {
        throw new Error(
          `node ${node} did not become healthy within ${this.options.startTimeoutMs} ms at ${slot.client.host}:${slot.client.port}; see ${slot.process.stderrLog} and stdout.log`,
        );
      }
      await sleep(this.healthPollMs);
    }
  }

  private saveRegistry(): void {
    if (this.tornDown) return;
    const entry: RunEntry = {
      runId: this.options.runId,
      harnessPid: process.pid,
      createdAt: new Date().toISOString(),
      nodes: {},
      clientPorts: {},
      peerPorts: {},
      proxyPorts: this.mesh.proxyPorts(),
      dataRoot: this.runDataDir,
      ownsDataRoot: this.ownsDataDir,
    };
    for (const [node, s] of this.slots) {
      entry.nodes[node] = s.process?.pid ?? null;
      entry.clientPorts[node] = s.client.port;
      entry.peerPorts[node] = s.peer.port;
    }
    writeRunEntry(this.registryDir, entry);
  }

  private slot(node: NodeId): NodeSlot {
    const s = this.slots.get(node);
    if (s === undefined) {
      throw new Error(
        `unknown node ${JSON.stringify(node)} (nodes: ${[...this.nodes, ...this.spares].join(', ')})`,
      );
    }
    return s;
  }

  /** The slot of a member (its process made): node faults on a spare or removed node are refused. */
  private member(node: NodeId): NodeSlot & { process: NodeProcess } {
    const s = this.slot(node);
    if (!s.member || s.process === undefined) {
      throw new Error(`node ${node} is not a member of the cluster now (add it first)`);
    }
    return s as NodeSlot & { process: NodeProcess };
  }

  private live(): void {
    if (this.tornDown) throw new Error(`run ${this.options.runId}: the cluster was torn down`);
  }
}

/**
 * Remove what runs whose harness died left behind: their node processes (found by the run mark
 * in their environment where /proc allows, else by the recorded process groups), their data
 * dirs when the run owned them, and their registry files. Runs whose harness lives are left alone.
 */
export function cleanLeftovers(registryDir: string): { removed: string[] } {
  const removed: string[] = [];
  const { entries } = readRunEntries(registryDir);
  const scan = canScanProcesses();
  for (const entry of entries) {
    // A live harness (this one included) still owns its run.
    if (entry.harnessPid === process.pid || processAlive(entry.harnessPid)) continue;
    const killed: number[] = [];
    if (scan) {
      for (const pid of processesOfRun(entry.runId)) {
        try {
          process.kill(pid, 'SIGKILL');
          killed.push(pid);
        } catch {
          // already gone
        }
      }
    } else {
      for (const pgid of Object.values(entry.nodes)) {
        if (pgid === null || !processAlive(pgid)) continue;
        signalGroup(pgid, 'SIGKILL');
        killed.push(pgid);
      }
    }
    if (killed.length > 0) removed.push(`run ${entry.runId}: killed pids ${killed.join(', ')}`);
    if (entry.ownsDataRoot) {
      rmSync(entry.dataRoot, { recursive: true, force: true });
      removed.push(`run ${entry.runId}: removed ${entry.dataRoot}`);
    }
    removeRunEntry(registryDir, entry.runId);
    removed.push(`run ${entry.runId}: removed its registry entry`);
  }
  return { removed };
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
