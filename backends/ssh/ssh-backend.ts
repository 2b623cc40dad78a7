import { lookup } from 'node:dns/promises';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
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
import { CAPABILITIES, healEveryFault } from '../../core/cluster.js';
import { SshConnection } from './connection.js';
import { describeFiles, filesUnder, mapLaunchPaths, rootsOfLaunch, syncFiles } from './files.js';
import { type Inventory, type InventoryHost, loadInventory } from './inventory.js';
import { shQuote } from './quote.js';
import {
  candidatePorts,
  checkRunId,
  faketimeEnv,
  type HostProbe,
  killScript,
  launchFile,
  leftoversScript,
  listRunsScript,
  lossRestore,
  nodeDir,
  offsetText,
  type Peer,
  packagesScript,
  parseProbe,
  partitionRestore,
  prepareRunScript,
  probeScript,
  type Qdisc,
  qdiscLines,
  qdiscsFor,
  RUN_ENV,
  removeRunScript,
  runDir,
  signalScript,
  startScript,
  stateScript,
  writeFromStdin,
} from './remote.js';

/** Waits for every promise, then throws the first failure: nothing is left running behind it. */
async function allSettled(promises: readonly Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(promises);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
}

/** With FAULTLINE_SSH_TRACE=1, prints how long each step of a cluster start took. */
function phaseTrace(runId: string): (what: string) => void {
  if (process.env.FAULTLINE_SSH_TRACE !== '1') return () => undefined;
  const t0 = performance.now();
  return (what) =>
    process.stderr.write(`[ssh ${runId}] +${(performance.now() - t0).toFixed(0)} ms ${what}\n`);
}

/** What a host's probe allows, as the Cluster interface names it. */
export function capabilitiesOf(p: HostProbe): Set<Capability> {
  const caps = new Set<Capability>();
  if (p.kill) caps.add('kill').add('pause');
  if (p.iptables) caps.add('partition');
  if (p.iptables && p.loss) caps.add('link-loss');
  if (p.tbf) caps.add('link-bandwidth');
  if (p.netem) caps.add('link-delay');
  if (p.faketime !== '') caps.add('clock');
  return caps;
}

/** What every one of the hosts allows. */
export function commonCapabilities(probes: readonly HostProbe[]): Set<Capability> {
  const sets = probes.map(capabilitiesOf);
  const first = sets[0] ?? new Set<Capability>();
  return new Set([...first].filter((c) => sets.every((s) => s.has(c))));
}

/** Connects to a host and probes it (the connection stays open for the caller). */
export async function probeHost(
  trace: (what: string) => void,
  host: InventoryHost,
  inventory: Inventory,
  peer?: string,
  onClose?: string,
): Promise<{ conn: SshConnection; probe: HostProbe }> {
  const conn = await SshConnection.open(host, inventory, onClose === undefined ? {} : { onClose });
  trace(`${host.name} connected`);
  try {
    await conn.ok('true', 'opening the command shell');
    trace(`${host.name} command shell`);
    const out = await conn.ok(probeScript(peer), 'probing');
    trace(`${host.name} probed`);
    return { conn, probe: parseProbe(out) };
  } catch (err) {
    conn.close();
    throw err;
  }
}

/** Probes every host of the inventory; the capabilities all of them have. */
export async function probeInventory(inventory: Inventory): Promise<Set<Capability>> {
  const probes = await Promise.all(
    inventory.hosts.map(async (h) => {
      const { conn, probe } = await probeHost(() => undefined, h, inventory);
      conn.close();
      return probe;
    }),
  );
  return commonCapabilities(probes);
}

export interface SshBackendOptions {
  /** The inventory, or its file. */
  inventory: Inventory | string;
  /**
   * What the hosts can do, from an earlier probe (`probeInventory`). Absent: the backend
   * claims every fault it implements, and each cluster refuses, at its start, a host lacking
   * one that a fault needs, and at the fault, what its host cannot do.
   */
  capabilities?: ReadonlySet<Capability>;
  /** Pause between health probes while a node starts (default 25 ms). */
  healthPollMs?: number;
  /**
   * When a host's connection closes without a teardown (the harness died, the network went),
   * the host removes the run by itself (default true). Off: only teardown and `clean` do.
   */
  cleanupOnDisconnect?: boolean;
}

/** Every fault this backend implements (delay only where the kernel has netem). */
export const SSH_CAPABILITIES: ReadonlySet<Capability> = new Set(CAPABILITIES);

export function createSshBackend(options: SshBackendOptions): Backend {
  let inventory: Inventory | undefined;
  const inv = () => {
    inventory ??=
      typeof options.inventory === 'string' ? loadInventory(options.inventory) : options.inventory;
    return inventory;
  };
  return {
    name: 'ssh',
    capabilities: options.capabilities ?? SSH_CAPABILITIES,
    createCluster: (clusterOptions) => SshCluster.create(inv(), clusterOptions, options),
    clean: async () => ({ removed: await cleanInventory(inv()) }),
  };
}

/** A backend whose capabilities are probed on the hosts first. */
export async function openSshBackend(
  options: Omit<SshBackendOptions, 'capabilities'>,
): Promise<Backend> {
  const inventory =
    typeof options.inventory === 'string' ? loadInventory(options.inventory) : options.inventory;
  const capabilities = await probeInventory(inventory);
  return createSshBackend({ ...options, inventory, capabilities });
}

/** What of run `runId` is on the inventory's hosts, a line each naming the host (tests, benches). */
export async function leftoversOnHosts(inventory: Inventory, runId: string): Promise<string[]> {
  checkRunId(runId);
  const lines = await Promise.all(
    inventory.hosts.map(async (h) => {
      const conn = await SshConnection.open(h, inventory);
      try {
        const out = await conn.ok(leftoversScript(h.workDir, runId), 'listing leftovers');
        return out
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => `${h.name}: ${l}`);
      } finally {
        conn.close();
      }
    }),
  );
  return lines.flat();
}

/** Whether a harness process `owner` (`host=H pid=P ...`) is gone (only this host's can be told). */
function ownerGone(owner: string): boolean {
  if (owner === '-') return true;
  const host = /host=(\S+)/.exec(owner)?.[1];
  const pid = Number(/pid=(\d+)/.exec(owner)?.[1]);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * `faultline clean --inventory`: on every host, removes what runs whose harness is gone left
 * there (processes, chains, qdisc, folder). Runs of a live harness, or of another machine's,
 * are kept. A host that cannot be reached is an error naming it.
 */
export async function cleanInventory(inventory: Inventory): Promise<string[]> {
  const results = await Promise.allSettled(
    inventory.hosts.map(async (h) => {
      const conn = await SshConnection.open(h, inventory);
      try {
        const removed: string[] = [];
        const listing = await conn.ok(listRunsScript(h.workDir), 'listing runs');
        for (const line of listing.split('\n')) {
          const m = /^run (\S+) (.*)$/.exec(line.trim());
          if (m === null) continue;
          const [, runId = '', owner = ''] = m;
          if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(runId) || !ownerGone(owner)) continue;
          await conn.ok(removeRunScript(h.workDir, runId), `removing run ${runId}`);
          removed.push(`${h.name}: run ${runId}`);
        }
        return removed;
      } finally {
        conn.close();
      }
    }),
  );
  const failed = results.flatMap((r) =>
    r.status === 'rejected' ? [String((r.reason as Error).message)] : [],
  );
  if (failed.length > 0) throw new Error(failed.join('; '));
  return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

type NodeState = 'up' | 'down' | 'paused';

interface Slot {
  node: NodeId;
  host: InventoryHost;
  conn: SshConnection;
  probe: HostProbe;
  /** The host's address as an IP: where the node listens and peers reach it. */
  ip: string;
  dir: string;
  member: boolean;
  state: NodeState;
  stdout: WriteStream;
  stderr: WriteStream;
  tail: { close(): void } | undefined;
  rules: string;
  loss: string;
  qdiscs: Qdisc[];
}

/**
 * A cluster of nodes on the inventory's hosts, node i on host i, each under a supervisor in
 * its own process group; faults through the host's kernel (iptables chains of the run, tc,
 * signals, libfaketime), commands over one SSH connection per host.
 */
export class SshCluster implements Cluster {
  private readonly slots = new Map<NodeId, Slot>();
  private tornDown = false;
  private teardownPromise: Promise<void> | undefined;
  private ports: [number, number] = [0, 0];
  private readonly connections: SshConnection[] = [];
  /** The log tails' channels, opening or open. */
  private readonly tails: Promise<{ close(): void }>[] = [];
  private readonly healthPollMs: number;
  private readonly cleanupOnDisconnect: boolean;
  private launchRoots: string[] = [];

  private constructor(
    private readonly inventory: Inventory,
    readonly nodes: readonly NodeId[],
    readonly spares: readonly NodeId[],
    private readonly options: ClusterOptions,
    backendOptions: SshBackendOptions,
  ) {
    this.healthPollMs = backendOptions.healthPollMs ?? 25;
    this.cleanupOnDisconnect = backendOptions.cleanupOnDisconnect ?? true;
  }

  static async create(
    inventory: Inventory,
    options: ClusterOptions,
    backendOptions: SshBackendOptions,
  ): Promise<SshCluster> {
    checkRunId(options.runId);
    const nodes = [...options.nodes];
    const spares = [...(options.spares ?? [])];
    const pool = [...nodes, ...spares];
    if (nodes.length === 0) throw new Error('ssh backend: a cluster needs at least one node');
    if (new Set(pool).size !== pool.length)
      throw new Error(`ssh backend: node names repeat: ${pool.join(', ')}`);
    if (pool.length > inventory.hosts.length) {
      throw new Error(
        `ssh backend: ${pool.length} nodes need ${pool.length} hosts (one node per host); the inventory lists ${inventory.hosts.length}`,
      );
    }
    const cluster = new SshCluster(inventory, nodes, spares, options, backendOptions);
    try {
      await cluster.setUp(pool);
    } catch (err) {
      await cluster.teardown().catch(() => undefined);
      throw err;
    }
    return cluster;
  }

  private async setUp(pool: NodeId[]): Promise<void> {
    const { runId } = this.options;
    const trace = phaseTrace(runId);
    const hosts = pool.map((_, i) => this.inventory.hosts[i]!);
    const ips = await Promise.all(
      hosts.map(async (h) => {
        try {
          return (await lookup(h.address, { family: 4 })).address;
        } catch (err) {
          throw new Error(
            `ssh backend: host ${h.name}: cannot resolve ${h.address}: ${(err as Error).message}`,
          );
        }
      }),
    );
    const owner = `host=${hostname()} pid=${process.pid} started=${new Date().toISOString()}`;
    // Connect, probe, and mark the run on every host (its folder, its chains) at once; all
    // settle before a failure is thrown, so that teardown sees every connection made.
    await allSettled(
      pool.map(async (node, i) => {
        const host = hosts[i]!;
        const peerIp = ips[(i + 1) % ips.length];
        const { conn, probe } = await probeHost(
          trace,
          host,
          this.inventory,
          peerIp === ips[i] ? undefined : peerIp,
          this.cleanupOnDisconnect ? removeRunScript(host.workDir, runId) : undefined,
        );
        this.connections.push(conn);
        if (this.tornDown) throw new Error('the cluster was torn down while starting');
        const logDir = join(this.options.logsDir, node);
        mkdirSync(logDir, { recursive: true });
        this.slots.set(node, {
          node,
          host,
          conn,
          probe,
          ip: ips[i]!,
          dir: nodeDir(host.workDir, runId, node),
          member: false,
          state: 'down',
          stdout: createWriteStream(join(logDir, 'stdout.log'), { flags: 'a' }),
          stderr: createWriteStream(join(logDir, 'stderr.log'), { flags: 'a' }),
          tail: undefined,
          rules: '',
          loss: '',
          qdiscs: [],
        });
        if (!probe.kill)
          throw new Error(`ssh backend: host ${host.name} has no setsid/kill to supervise nodes`);
        await conn.ok(
          prepareRunScript({ workDir: host.workDir, runId, owner, iptables: probe.iptables }),
          `preparing run ${runId}`,
        );
        if (this.inventory.packages.length > 0) {
          const said = await conn.ok(
            packagesScript(this.inventory.packages),
            'installing packages',
            {
              timeoutMs: Math.max(this.inventory.commandTimeoutMs, 600_000),
            },
          );
          if (said.trim() !== '') trace(`${host.name} ${said.trim()}`);
        }
      }),
    );
    trace('hosts probed, run prepared');
    this.ports = this.choosePorts();
    for (const slot of this.slots.values()) {
      slot.stdout.write(
        `--- faultline: ${slot.node} on ${slot.host.name} (${slot.ip}); ports ${this.ports.join(', ')}; ${this.describeHost(slot)}\n`,
      );
    }
    await allSettled(this.nodes.map((n) => this.prepareNode(n, this.nodes, false)));
    trace('launch files written');
    await this.syncSystemFiles();
    trace('system files checked');
    await allSettled(this.nodes.map((n) => this.startNode(n).then(() => trace(`${n} healthy`))));
  }

  private describeHost(slot: Slot): string {
    const p = slot.probe;
    return `partitions ${p.iptables ? 'iptables' : 'none'}, loss ${p.loss ? 'iptables statistic' : 'none'}, bandwidth ${p.tbf ? 'tc tbf' : 'none'}, delay ${p.netem ? 'tc netem' : 'none (no netem)'}, clock ${p.faketime || 'none (no libfaketime)'}`;
  }

  /** The first candidate pair of ports free on every host. */
  private choosePorts(): [number, number] {
    const used = new Set<number>();
    for (const s of this.slots.values()) for (const p of s.probe.ports) used.add(p);
    const pair = candidatePorts(this.options.runId).find(([a, b]) => !used.has(a) && !used.has(b));
    if (pair === undefined) throw new Error('ssh backend: no free pair of ports on the hosts');
    return pair;
  }

  clientAddress(node: NodeId): HostPort {
    return { host: this.slot(node).ip, port: this.ports[0] };
  }

  peerAddress(node: NodeId): HostPort {
    return { host: this.slot(node).ip, port: this.ports[1] };
  }

  /** The host a node runs on (ssh only). */
  hostOf(node: NodeId): string {
    return this.slot(node).host.name;
  }

  private members(): NodeId[] {
    return [...this.slots.values()].filter((s) => s.member).map((s) => s.node);
  }

  /**
   * Writes the node's launch file (a fresh data dir) and makes it a member. The system's files
   * it names are synced before the node starts (`syncSystemFiles`).
   */
  private async prepareNode(
    node: NodeId,
    members: readonly NodeId[],
    joining: boolean,
  ): Promise<void> {
    this.live();
    const slot = this.slot(node);
    const { runId } = this.options;
    const peerOf = (n: NodeId) => ({ host: this.slot(n).ip, port: this.ports[1] });
    const poolNodes = [...this.slots.keys()].filter((n) => n !== node);
    const pool = Object.fromEntries(poolNodes.map((n) => [n, peerOf(n)]));
    const peers = Object.fromEntries(
      poolNodes.filter((n) => members.includes(n)).map((n) => [n, peerOf(n)]),
    );
    const dataDir = `${slot.dir}/data`;
    const launch = this.options.recipe.launch({
      node,
      listen: { host: slot.ip, port: this.ports[0] },
      peerListen: { host: slot.ip, port: this.ports[1] },
      peers,
      pool,
      joining,
      dataDir,
      settings: { ...this.options.settings, ...slot.host.settings },
    });
    const skip = [...new Set(this.inventory.hosts.map((h) => h.workDir))];
    const roots = rootsOfLaunch(launch, this.options.recipe, skip);
    this.launchRoots = [...new Set([...this.launchRoots, ...roots])].sort();
    const mapped = mapLaunchPaths(launch, this.launchRoots, slot.host.workDir);
    const clock = this.options.recipe.clockFaults && slot.probe.faketime !== '';
    const env = {
      ...mapped.env,
      ...(clock ? faketimeEnv(slot.probe.faketime, `${slot.dir}/clock`) : {}),
      [RUN_ENV]: runId,
    };
    const d = slot.dir;
    await slot.conn.ok(
      `rm -rf ${shQuote(dataDir)} && mkdir -p ${shQuote(dataDir)} && printf '+0.000\\n' > ${shQuote(`${d}/clock`)} && ${writeFromStdin(`${d}/launch`)}`,
      `preparing node ${node}`,
      { stdin: launchFile(mapped.command, mapped.args, env) },
    );
    slot.member = true;
  }

  /** Copies the system's files (those the launches name) to every host that lacks them. */
  private async syncSystemFiles(): Promise<void> {
    const files = await describeFiles(filesUnder(this.launchRoots));
    const slots = [...this.slots.values()].filter((s) => s.member);
    await Promise.all(slots.map((s) => syncFiles(s.conn, s.host.workDir, files)));
  }

  async addNode(node: NodeId): Promise<void> {
    this.live();
    if (this.slot(node).member) throw new Error(`node ${node} is already a member`);
    await this.prepareNode(node, [...this.members(), node], true);
    await this.syncSystemFiles();
    await this.startNode(node);
  }

  async removeNode(node: NodeId): Promise<void> {
    this.live();
    const slot = this.member(node);
    await this.kill(node);
    await slot.conn.ok(`rm -rf ${shQuote(`${slot.dir}/data`)}`, `removing the data of ${node}`);
    slot.member = false;
  }

  /** Starts the node's supervisor and its log tail; resolves when the node is healthy. */
  private async startNode(node: NodeId): Promise<void> {
    const slot = this.slot(node);
    const stamp = `--- faultline: starting ${node} on ${slot.host.name} at ${new Date().toISOString()}\n`;
    slot.stdout.write(stamp);
    slot.stderr.write(stamp);
    this.live();
    await slot.conn.ok(startScript(slot.dir, this.options.runId), `starting ${node}`);
    slot.state = 'up';
    try {
      await this.waitHealthy(node);
    } finally {
      this.followLogs(slot);
    }
  }

  /**
   * Streams the node's remote logs into the results folder: one tail per node for the whole
   * run, from the files' first byte, so opening it once the node is up misses nothing (and
   * its SSH session does not compete with the start).
   */
  private followLogs(slot: Slot): void {
    if (slot.tail !== undefined || this.tornDown) return;
    // The tails last as long as the channel: they are killed once its stdin ends (closed by
    // us, or by sshd when the connection is lost).
    const tails =
      'tail -n +1 -F stdout.log & a=$!; tail -n +1 -F stderr.log >&2 & b=$!; cat > /dev/null; kill $a $b';
    const script = `cd ${shQuote(slot.dir)} && touch stdout.log stderr.log && ${RUN_ENV}=${shQuote(this.options.runId)} exec sh -c ${shQuote(tails)}`;
    const tail = slot.conn.stream(
      script,
      (b) => slot.stdout.write(b),
      (b) => slot.stderr.write(b),
    );
    tail.catch(() => undefined);
    this.tails.push(tail);
    slot.tail = {
      close: () =>
        void tail.then(
          (t) => t.close(),
          () => undefined,
        ),
    };
  }

  /** The last lines the node wrote to stderr on its host (for errors). */
  private async remoteStderr(slot: Slot): Promise<string> {
    const r = await slot.conn
      .run(`tail -n 5 ${shQuote(`${slot.dir}/stderr.log`)}`)
      .catch(() => undefined);
    const text = r?.stdout.trim() ?? '';
    return text === '' ? '' : `; its stderr ends: ${text.split('\n').join(' / ')}`;
  }

  private async waitHealthy(node: NodeId): Promise<void> {
    const slot = this.slot(node);
    const deadline = performance.now() + this.options.startTimeoutMs;
    let probes = 0;
    for (;;) {
      if (this.options.signal?.aborted) throw new Error(`start of node ${node} aborted`);
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
        const state = (await slot.conn.run(stateScript(slot.dir))).stdout.trim();
        if (state !== 'running') {
          slot.state = 'down';
          throw new Error(
            `node ${node} on ${slot.host.name} ${state.startsWith('exited') ? `exited while starting (exit code ${state.split(' ')[1]})` : 'is not running'}; see ${join(this.options.logsDir, node, 'stderr.log')}${await this.remoteStderr(slot)}`,
          );
        }
      }
      if (performance.now() >= deadline) {
        throw new Error(
          `node ${node} did not become healthy within ${this.options.startTimeoutMs} ms at ${slot.ip}:${this.ports[0]} (host ${slot.host.name}); see ${join(this.options.logsDir, node)}/stderr.log and stdout.log${await this.remoteStderr(slot)}`,
        );
      }
      await sleep(this.healthPollMs);
    }
  }

  async kill(node: NodeId): Promise<void> {
    this.live();
    const slot = this.member(node);
    if (slot.state === 'down') return;
    await slot.conn.ok(killScript(slot.dir), `killing ${node}`);
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
    await slot.conn.ok(signalScript(slot.dir, 'STOP'), `pausing ${node}`);
    slot.state = 'paused';
  }

  async resume(node: NodeId): Promise<void> {
    this.live();
    const slot = this.member(node);
    if (slot.state !== 'paused') return;
    await slot.conn.ok(signalScript(slot.dir, 'CONT'), `resuming ${node}`);
    slot.state = 'up';
  }

  private peers(): Peer[] {
    return [...this.slots.values()].map((s) => ({ node: s.node, ip: s.ip }));
  }

  private needs(slot: Slot, what: keyof HostProbe, fault: string): void {
    if (!slot.probe[what]) {
      throw new Error(
        `the ssh backend cannot do ${fault} on host ${slot.host.name}: ${this.describeHost(slot)}`,
      );
    }
  }

  async partition(grudge: Grudge): Promise<void> {
    this.live();
    for (const [n, others] of Object.entries(grudge)) {
      this.slot(n);
      for (const o of others) this.slot(o);
    }
    const peers = this.peers();
    const slots = [...this.slots.values()];
    const changes = slots.flatMap((slot) => {
      const rules = partitionRestore({
        runId: this.options.runId,
        node: slot.node,
        grudge,
        peers,
        ports: this.ports,
      });
      return rules === slot.rules ? [] : [{ slot, rules }];
    });
    for (const { slot } of changes) this.needs(slot, 'iptables', 'partitions');
    await Promise.all(
      changes.map(async ({ slot, rules }) => {
        await slot.conn.ok('iptables-restore -w --noflush', `partition on ${slot.node}`, {
          stdin: rules,
        });
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
    const qdiscs = qdiscsFor(fault, slot.probe.netem);
    const loss = lossRestore({
      runId: this.options.runId,
      loss: fault.loss ?? 0,
      peers: this.peers()
        .filter((p) => p.node !== node)
        .map((p) => p.ip),
      ports: this.ports,
    });
    const tc = qdiscLines(slot.probe.device, slot.qdiscs, qdiscs);
    if (loss !== slot.loss && (fault.loss ?? 0) > 0) this.needs(slot, 'loss', 'link loss');
    if (tc.length > 0) {
      if (qdiscs.some(([, , a]) => a.startsWith('tbf'))) this.needs(slot, 'tbf', 'link bandwidth');
      if (slot.probe.device === '')
        throw new Error(`ssh backend: no device towards the peers found on host ${slot.host.name}`);
    }
    if (loss !== slot.loss) {
      await slot.conn.ok('iptables-restore -w --noflush', `link loss on ${node}`, {
        stdin: loss,
      });
      slot.loss = loss;
    }
    if (tc.length > 0) {
      const record = `${runDir(slot.host.workDir, this.options.runId)}/qdisc-device`;
      const mark =
        qdiscs.length > 0
          ? `printf '%s\\n' ${shQuote(slot.probe.device)} > ${shQuote(record)}`
          : `rm -f ${shQuote(record)}`;
      await slot.conn.ok(`${mark} && ${tc.join(' && ')}`, `link qdiscs on ${node}`);
      slot.qdiscs = qdiscs;
    }
  }

  async setClock(node: NodeId, offsetMs: number): Promise<void> {
    this.live();
    const slot = this.slot(node);
    if (!this.options.recipe.clockFaults) {
      throw new Error(
        `the ${this.options.recipe.name} system does not support clock faults (it reads the clock without libc)`,
      );
    }
    if (slot.probe.faketime === '') {
      throw new Error(
        `the ssh backend cannot do clock faults on host ${slot.host.name}: no libfaketime there (apt-get install libfaketime)`,
      );
    }
    await slot.conn.ok(writeFromStdin(`${slot.dir}/clock`, '644'), `clock on ${node}`, {
      stdin: `${offsetText(offsetMs)}\n`,
    });
  }

  async healAll(): Promise<void> {
    this.live();
    await healEveryFault(
      this,
      [...this.slots.values()].map((s) => ({
        node: s.node,
        paused: s.member && s.state === 'paused',
        // Only where libfaketime is there, and on a member (a pool node has no clock file).
        clock: this.options.recipe.clockFaults && s.probe.faketime !== '' && s.member,
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
    const errors: string[] = [];
    // Tails still opening are waited for and closed first: none may start after the sweep.
    for (const t of await Promise.allSettled(this.tails)) {
      if (t.status === 'fulfilled') t.value.close();
    }
    // Every host the run may have touched, once (several slots may share a connection's host).
    const hosts = new Map<string, Slot>();
    for (const s of this.slots.values()) hosts.set(s.host.name, s);
    await Promise.all(
      [...hosts.values()].map(async (s) => {
        try {
          await s.conn.ok(removeRunScript(s.host.workDir, this.options.runId), 'teardown');
        } catch (err) {
          errors.push((err as Error).message);
        }
      }),
    );
    for (const s of this.slots.values()) {
      s.stdout.end();
      s.stderr.end();
    }
    for (const c of this.connections) c.close();
    if (errors.length > 0) {
      throw new Error(
        `teardown of run ${this.options.runId}: ${errors.join('; ')} (run \`faultline clean --inventory FILE\`)`,
      );
    }
  }

  private slot(node: NodeId): Slot {
    const s = this.slots.get(node);
    if (s === undefined) {
      throw new Error(
        `unknown node ${JSON.stringify(node)} (nodes: ${[...this.nodes, ...this.spares].join(', ')})`,
      );
    }
    return s;
  }

  private member(node: NodeId): Slot {
    const s = this.slot(node);
    if (!s.member)
      throw new Error(`node ${node} is not a member of the cluster now (add it first)`);
    return s;
  }

  private live(): void {
    if (this.tornDown) throw new Error(`run ${this.options.runId}: the cluster was torn down`);
  }
}
