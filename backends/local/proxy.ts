import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HostPort, NodeId } from '../../core/cluster.js';

/** What a proxy asks the mesh about the network, per chunk. */
export interface LinkPolicy {
  /** True when `receiver` drops traffic coming from `sender` (the current grudge). */
  isCut(sender: NodeId, receiver: NodeId): boolean;
  /** Extra ms to hold a chunk leaving `sender` (its link fault); 0 when it has none. */
  chunkDelayMs(sender: NodeId): number;
}

/** How long a connection whose one side closed may linger half-open before it is reset. */
const LINGER_MS = 60_000;

/** Pause reading the source when this many bytes wait in a delay queue. */
const QUEUE_HIGH_WATER = 1 << 20;

function resetQuietly(socket: Socket): void {
  // Only an open, connected socket that we have not half-closed can be reset. Otherwise destroy it:
  // - still connecting: resetAndDestroy() would act only once the connect completes, and a connect
  //   that never completes leaves its handle behind;
  // - already ended by us (a FIN passed on): the kernel-side reset is refused for a socket that is
  //   shutting down, and on that error path the handle is dropped without being closed: it stays
  //   in the event loop forever, keeping the harness process from exiting (and spinning on it).
  if (socket.connecting || socket.destroyed || socket.writableEnded) {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/**
 * One direction of one proxied connection: bytes read from `src`, sent by `sender`, written to
 * `dst` for `receiver`. While the direction is cut, bytes (and a FIN or RST) are discarded and
 * counted as lost; the sockets stay open, as with a firewall DROP.
 */
class Flow {
  lostBytes = 0;
  /** A FIN or RST that was swallowed by a cut (the other side never learned the stream ended). */
  lostSignal = false;
  private readonly queue: { at: number; data: Buffer }[] = [];
  private queuedBytes = 0;
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private endPending = false;
  private pausedForQueue = false;
  private pausedForDrain = false;

  constructor(
    readonly sender: NodeId,
    readonly receiver: NodeId,
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly policy: LinkPolicy,
  ) {}

  cut(): boolean {
    return this.policy.isCut(this.sender, this.receiver);
  }

  onData(chunk: Buffer): void {
    if (this.cut()) {
      this.lostBytes += chunk.length;
      return;
    }
    const delay = this.policy.chunkDelayMs(this.sender);
    if (delay === 0 && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    // In order within the connection: never before the chunk in front.
    const at = Math.max(performance.now() + delay, this.lastAt);
    this.lastAt = at;
    this.queue.push({ at, data: chunk });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > QUEUE_HIGH_WATER && !this.pausedForQueue) {
      this.pausedForQueue = true;
      this.src.pause();
    }
    this.schedule();
  }

  onEnd(): void {
    if (this.cut()) {
      this.lostSignal = true;
      return;
    }
    if (this.queue.length === 0) this.dst.end();
    else this.endPending = true;
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const wait = Math.max(0, (this.queue[0]?.at ?? 0) - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    const now = performance.now();
    while (this.queue.length > 0 && (this.queue[0]?.at ?? 0) <= now + 1) {
      const { data } = this.queue.shift()!;
      this.queuedBytes -= data.length;
      // A partition that started while the chunk was in flight drops it on arrival.
      if (this.cut()) this.lostBytes += data.length;
      else this.write(data);
    }
    if (this.pausedForQueue && this.queuedBytes <= QUEUE_HIGH_WATER / 2) {
      this.pausedForQueue = false;
      this.resumeIfFree();
    }
    if (this.queue.length === 0 && this.endPending) {
      this.endPending = false;
      if (this.cut()) this.lostSignal = true;
      else this.dst.end();
    }
    this.schedule();
  }

  private write(chunk: Buffer): void {
    if (this.dst.destroyed || this.dst.writableEnded) return;
    if (!this.dst.write(chunk) && !this.pausedForDrain) {
      this.pausedForDrain = true;
      this.src.pause();
      this.dst.once('drain', () => {
        this.pausedForDrain = false;
        this.resumeIfFree();
      });
    }
  }

  private resumeIfFree(): void {
    if (!this.pausedForQueue && !this.pausedForDrain) this.src.resume();
  }
}

/** One connection node `from` opened to the proxy standing for peer `to`. */
class ProxiedConnection {
  private readonly up: Flow;
  private readonly down: Flow;
  private closed = false;

  constructor(
    from: NodeId,
    to: NodeId,
    private readonly client: Socket,
    private readonly upstream: Socket,
    policy: LinkPolicy,
    private readonly onClose: (c: ProxiedConnection) => void,
  ) {
    this.up = new Flow(from, to, client, upstream, policy);
    this.down = new Flow(to, from, upstream, client, policy);
    client.on('data', (c: Buffer) => this.up.onData(c));
    upstream.on('data', (c: Buffer) => this.down.onData(c));
    client.on('end', () => this.up.onEnd());
    upstream.on('end', () => this.down.onEnd());
    client.on('error', () => this.abort(this.up));
    upstream.on('error', () => this.abort(this.down));
    client.on('close', () => this.closeBoth());
    upstream.on('close', () => this.closeBoth());
  }

  /** Lost bytes in a direction that is open again: the stream has a hole, so reset it. */
  needsReset(): boolean {
    const holed = (f: Flow) => (f.lostBytes > 0 || f.lostSignal) && !f.cut();
    return holed(this.up) || holed(this.down);
  }

  reset(): void {
    this.closed = true;
    this.up.stop();
    this.down.stop();
    resetQuietly(this.client);
    resetQuietly(this.upstream);
    this.onClose(this);
  }

  lostBytes(): number {
    return this.up.lostBytes + this.down.lostBytes;
  }

  /**
   * The socket read by `flow` failed (a reset, a refused upstream connect). The other side is
   * told with a reset unless the direction is cut, in which case, as with a DROP rule, it hears
   * nothing and the connection is reset when the direction opens again.
   */
  private abort(flow: Flow): void {
    if (this.closed) return;
    if (flow.cut()) {
      flow.lostSignal = true;
      return;
    }
    this.reset();
  }

  /** One socket closed for good: close the other too, unless a cut hides it. */
  private closeBoth(): void {
    if (this.closed) return;
    const clientGone = this.client.destroyed;
    const upstreamGone = this.upstream.destroyed;
    if (clientGone && upstreamGone) {
      this.closed = true;
      this.up.stop();
      this.down.stop();
      this.onClose(this);
      return;
    }
    // The closed side's flow towards the survivor decides whether the survivor may learn of it:
    // a FIN after the bytes still queued in it, unless the direction is cut.
    const towardSurvivor = clientGone ? this.up : this.down;
    towardSurvivor.onEnd();
    if (towardSurvivor.cut()) return;
    // A survivor that never closes its side would keep the pair forever: forget it after a while.
    setTimeout(() => {
      if (!this.closed) this.reset();
    }, LINGER_MS).unref();
  }
}

/**
 * The TCP proxy standing for peer `to` in node `from`'s peer list: node `from` connects here
 * believing it reaches `to`. Each accepted connection is paired with a connection to `to`'s peer
 * address; the mesh's policy decides, chunk by chunk and per direction, what gets through.
 */
export class PeerProxy {
  private readonly connections = new Set<ProxiedConnection>();
  private lostInClosed = 0;

  private constructor(
    readonly from: NodeId,
    readonly to: NodeId,
    private readonly server: Server,
    readonly address: HostPort,
  ) {}

  static listen(options: {
    from: NodeId;
    to: NodeId;
    host: string;
    target: () => HostPort;
    policy: LinkPolicy;
  }): Promise<PeerProxy> {
    const { from, to, host, target, policy } = options;
    return new Promise((resolve, reject) => {
      const server = createServer({ allowHalfOpen: true, noDelay: true });
      let proxy: PeerProxy | undefined;
      server.on('connection', (client) => {
        if (proxy === undefined) {
          client.destroy();
          return;
        }
        const self = proxy;
        const upstream = createConnection({ ...target(), allowHalfOpen: true, noDelay: true });
        const conn = new ProxiedConnection(from, to, client, upstream, policy, (c) => {
          if (self.connections.delete(c)) self.lostInClosed += c.lostBytes();
        });
        self.connections.add(conn);
      });
      server.once('error', reject);
      server.listen({ host, port: 0 }, () => {
        const addr = server.address();
        if (addr === null || typeof addr === 'string') {
          reject(new Error('proxy: no TCP address'));
          return;
        }
        proxy = new PeerProxy(from, to, server, { host, port: addr.port });
        resolve(proxy);
      });
    });
  }

  /** Called after the grudge changed: reset every connection that has a hole in an open direction. */
  refresh(): void {
    for (const c of [...this.connections]) if (c.needsReset()) c.reset();
  }

  stats(): { connections: number; lostBytes: number } {
    let lost = this.lostInClosed;
    for (const c of this.connections) lost += c.lostBytes();
    return { connections: this.connections.size, lostBytes: lost };
  }

  close(): Promise<void> {
    for (const c of [...this.connections]) c.reset();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
