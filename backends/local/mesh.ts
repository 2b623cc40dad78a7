import type { Grudge, HostPort, LinkFault, NodeId } from '../../core/cluster.js';
import { Rng } from '../../core/random.js';
import { chunkDelayMs, isNoLinkFault, validateLinkFault } from './link.js';
import { type LinkPolicy, PeerProxy } from './proxy.js';

/**
 * The proxy mesh the harness owns: one proxy per ordered pair (i, j), whose address is what
 * node i is told for peer j. All peer-to-peer bytes pass through it, so partitions and link
 * faults need no privileges.
 *
 * Grudge direction: `grudge[a]` includes `b` means a drops traffic FROM b (as an iptables INPUT
 * DROP on a for b's address). Bytes b→a are discarded, on every connection, whoever opened it;
 * bytes a→b still flow unless `grudge[b]` includes a. To cut both ways, list both.
 *
 * A cut direction blackholes: bytes are discarded, sockets stay open, new connections are
 * accepted and hear nothing, so the cut-off peer sees timeouts. When a direction opens again
 * (heal or a new grudge), every connection that lost bytes, a FIN or a RST in it is reset
 * (RST both ways): a TCP stream with a silent hole in the middle would corrupt the framing,
 * whereas real TCP would retransmit; a reset is the honest analogue. Connections that lost
 * nothing carry on.
 *
 * Link faults apply to traffic leaving the node (both the connections it opened and its answers
 * on connections others opened); see link.ts for delay, jitter and loss.
 */
export class ProxyMesh implements LinkPolicy {
  private drops = new Map<NodeId, Set<NodeId>>();
  private readonly links = new Map<NodeId, LinkFault>();
  private readonly proxies = new Map<string, PeerProxy>();
  private closed = false;

  private constructor(
    readonly nodes: readonly NodeId[],
    private readonly rng: Rng,
  ) {}

  /**
   * `target(j)` is node j's real peer address; it is read at each new connection, so it may be
   * decided after the mesh is up (the mesh's own ports are bound first).
   */
  static async create(options: {
    nodes: readonly NodeId[];
    host: string;
    target: (node: NodeId) => HostPort;
    rng?: Rng;
  }): Promise<ProxyMesh> {
    const mesh = new ProxyMesh(options.nodes, options.rng ?? new Rng(0, 'proxy-mesh'));
    try {
      const pending: Promise<void>[] = [];
      for (const from of options.nodes) {
        for (const to of options.nodes) {
          if (from === to) continue;
          pending.push(
            PeerProxy.listen({
              from,
              to,
              host: options.host,
              target: () => options.target(to),
              policy: mesh,
            }).then((p) => {
              mesh.proxies.set(key(from, to), p);
            }),
          );
        }
      }
      await Promise.all(pending);
    } catch (err) {
      await mesh.close();
      throw err;
    }
    return mesh;
  }

  /** The peer list node `node` is started with: every other node, through its proxy. */
  peersFor(node: NodeId): Record<NodeId, HostPort> {
    const peers: Record<NodeId, HostPort> = {};
    for (const other of this.nodes) {
      if (other === node) continue;
      peers[other] = this.proxy(node, other).address;
    }
    return peers;
  }

  proxyPorts(): number[] {
    return [...this.proxies.values()].map((p) => p.address.port);
  }

  /** Replace the partition (an empty grudge heals). Unknown node names are refused. */
  setGrudge(grudge: Grudge): void {
    const next = new Map<NodeId, Set<NodeId>>();
    for (const [node, dropped] of Object.entries(grudge)) {
      this.check(node, 'grudge key');
      for (const d of dropped) this.check(d, `grudge[${node}]`);
      const set = new Set(dropped.filter((d) => d !== node));
      if (set.size > 0) next.set(node, set);
    }
    this.drops = next;
    for (const p of this.proxies.values()) p.refresh();
  }

  /** The partition currently in force, as a grudge. */
  grudge(): Grudge {
    const g: Grudge = {};
    for (const [node, set] of this.drops) g[node] = [...set];
    return g;
  }

  /** Replace the link fault on traffic leaving `node`; an empty fault clears it. */
  setLink(node: NodeId, fault: LinkFault): void {
    this.check(node, 'link fault node');
    validateLinkFault(node, fault);
    if (isNoLinkFault(fault)) this.links.delete(node);
    else this.links.set(node, { ...fault });
  }

  clearLinks(): void {
    this.links.clear();
  }

  isCut(sender: NodeId, receiver: NodeId): boolean {
    return this.drops.get(receiver)?.has(sender) ?? false;
  }

  chunkDelayMs(sender: NodeId): number {
    const fault = this.links.get(sender);
    return fault === undefined ? 0 : chunkDelayMs(fault, this.rng);
  }

  stats(): { connections: number; lostBytes: number } {
    let connections = 0;
    let lostBytes = 0;
    for (const p of this.proxies.values()) {
      const s = p.stats();
      connections += s.connections;
      lostBytes += s.lostBytes;
    }
    return { connections, lostBytes };
  }

  /** Close every proxy and every connection through it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    this.proxies.clear();
  }

  private proxy(from: NodeId, to: NodeId): PeerProxy {
    const p = this.proxies.get(key(from, to));
    if (p === undefined) throw new Error(`no proxy for ${from} → ${to}`);
    return p;
  }

  private check(node: NodeId, what: string): void {
    if (!this.nodes.includes(node)) {
      throw new Error(
        `${what}: unknown node ${JSON.stringify(node)} (nodes: ${this.nodes.join(', ')})`,
      );
    }
  }
}

function key(from: NodeId, to: NodeId): string {
  return `${from}\u0000${to}`;
}
