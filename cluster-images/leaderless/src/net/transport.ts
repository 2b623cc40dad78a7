/**
 * Peer transport: one persistent outbound TCP connection per peer (dialled at the address THIS
 * node was given for it, never an address the peer advertises), carrying requests with ids and
 * per-request timeouts; replies come back on the same connection. Inbound connections serve the
 * requests of the peer that dialled them, identified by node id in a hello handshake.
 *
 * Failure handling: a connection that does not complete its handshake, or stays silent (no
 * frame, not even a pong) for idleTimeoutMs while we ping it, is torn down and redialled with
 * exponential backoff, so a blackholing proxy or a SIGSTOPped peer produces timeouts, never
 * hangs. A peer sending bytes that are not valid frames/envelopes is disconnected and logged.
 */
import net from 'node:net';
import { type Envelope, PROTOCOL_VERSION, parseEnvelope } from './envelope.js';
import { encodeFrame, FrameDecoder, FrameError } from './frame.js';

export type PeerErrorKind =
  /** The request was never handed to a connection: the peer certainly did not see it. */
  | 'not-sent'
  /** Sent, but no reply in time or the connection died: the peer may have acted on it. */
  | 'timeout'
  /** The peer answered with an error. */
  | 'remote';

export class PeerError extends Error {
  constructor(
    readonly peer: string,
    readonly kind: PeerErrorKind,
    message: string,
  ) {
    super(`${peer}: ${message}`);
  }
}

/** Thrown by a request handler to have the sending peer disconnected (protocol violation). */
export class BadMessage extends Error {}

export interface TransportOptions {
  self: string;
  peers: Map<string, { host: string; port: number }>;
  listen: { host: string; port: number };
  handler: (from: string, body: unknown) => Promise<unknown> | unknown;
  log: (level: 'debug' | 'info' | 'warn', line: string) => void;
  connectTimeoutMs?: number;
  pingIntervalMs?: number;
  idleTimeoutMs?: number;
  maxBackoffMs?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: PeerError) => void;
  /**
   * performance.now() after which the request times out: the monotonic clock timers use, so a
   * jump of the wall clock (clock-skew faults) neither expires nor stretches requests.
   */
  deadline: number;
  timeoutMs: number;
}

/**
 * How often a link checks its in-flight requests for expired deadlines: one timer per link
 * instead of a timer set and cleared for every request; a request times out at most this late.
 */
const DEADLINE_CHECK_MS = 10;

const MAX_WRITE_BUFFER = 64 * 1024 * 1024;

/**
 * Writes frames, coalescing every frame produced in one turn of the event loop into a single
 * write (on loopback a send costs the whole TCP path, so syscalls dominate small messages).
 */
function sendFrame(socket: net.Socket, message: Envelope): void {
  if (socket.destroyed) return;
  if (socket.writableLength > MAX_WRITE_BUFFER) {
    socket.destroy(new Error('peer is not reading (write buffer full)'));
    return;
  }
  if (socket.writableCorked === 0) {
    socket.cork();
    setImmediate(() => socket.uncork());
  }
  socket.write(encodeFrame(message));
}

class OutboundLink {
  state: 'idle' | 'connecting' | 'up' | 'closed' = 'idle';
  private socket: net.Socket | undefined;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private backoffMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  /** Runs while requests are in flight (see DEADLINE_CHECK_MS). */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private waiters: Array<() => void> = [];
  /** Time of the last timeout with nothing heard since: the peer looks unreachable. */
  unansweredSince = 0;
  connects = 0;

  constructor(
    readonly peer: string,
    private readonly addr: { host: string; port: number },
    private readonly t: Transport,
  ) {}

  start(): void {
    if (this.state === 'idle') this.dial();
  }

  private dial(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const socket = net.connect({ host: this.addr.host, port: this.addr.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder();
    const handshakeTimer = setTimeout(
      () => socket.destroy(new Error('handshake timed out')),
      this.t.connectTimeoutMs,
    );
    socket.on('connect', () => {
      sendFrame(socket, { t: 'hello', v: PROTOCOL_VERSION, from: this.t.self, to: this.peer });
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        this.t.log(
          'warn',
          `peer ${this.peer} sent garbage (${(e as Error).message}); disconnecting`,
        );
        socket.destroy();
        return;
      }
      this.lastHeard = Date.now();
      this.unansweredSince = 0;
      for (const raw of frames) {
        const msg = parseEnvelope(raw);
        if (!msg) {
          this.t.log('warn', `peer ${this.peer} sent a malformed message; disconnecting`);
          socket.destroy();
          return;
        }
        this.onMessage(socket, msg, handshakeTimer);
      }
    });
    socket.on('error', (e) => {
      this.t.log('debug', `link to ${this.peer}: ${e.message}`);
    });
    socket.on('close', () => {
      clearTimeout(handshakeTimer);
      if (this.socket === socket) this.onDown();
    });
  }

  private onMessage(socket: net.Socket, msg: Envelope, handshakeTimer: NodeJS.Timeout): void {
    switch (msg.t) {
      case 'welcome':
        if (msg.from !== this.peer) {
          this.t.log('warn', `address of ${this.peer} answered as ${msg.from}; disconnecting`);
          socket.destroy();
          return;
        }
        clearTimeout(handshakeTimer);
        this.state = 'up';
        this.backoffMs = 0;
        this.connects++;
        this.t.log(this.connects === 1 ? 'info' : 'info', `link to ${this.peer} up`);
        this.startPings(socket);
        for (const w of this.waiters.splice(0)) w();
        return;
      case 'res': {
        const p = this.pending.get(msg.id);
        if (!p) return; // late reply to a timed-out request
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.body);
        else p.reject(new PeerError(this.peer, 'remote', msg.error ?? 'error'));
        return;
      }
      case 'pong':
        return;
      default:
        this.t.log('warn', `peer ${this.peer} sent ${msg.t} on an outbound link; disconnecting`);
        socket.destroy();
    }
  }

  private startPings(socket: net.Socket): void {
    clearInterval(this.pingTimer);
    this.lastHeard = Date.now();
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > this.t.idleTimeoutMs) {
        this.t.log(
          'info',
          `link to ${this.peer} silent for ${this.t.idleTimeoutMs} ms; redialling`,
        );
        socket.destroy();
        return;
      }
      sendFrame(socket, { t: 'ping' });
    }, this.t.pingIntervalMs);
    this.pingTimer.unref();
  }

  private onDown(): void {
    clearInterval(this.pingTimer);
    const wasUp = this.state === 'up';
    this.socket = undefined;
    for (const [id, p] of this.pending) {
      p.reject(new PeerError(this.peer, 'timeout', 'connection lost with the request in flight'));
      this.pending.delete(id);
    }
    this.stopDeadlineChecks();
    for (const w of this.waiters.splice(0)) w();
    if (this.state === 'closed') return;
    if (wasUp) this.t.log('info', `link to ${this.peer} down`);
    this.state = 'connecting';
    this.backoffMs = Math.min(this.t.maxBackoffMs, this.backoffMs === 0 ? 50 : this.backoffMs * 2);
    const delay = this.backoffMs / 2 + Math.random() * (this.backoffMs / 2);
    this.retryTimer = setTimeout(() => this.dial(), delay);
    this.retryTimer.unref();
  }

  async request(body: unknown, timeoutMs: number): Promise<unknown> {
    if (this.state !== 'up') {
      // A link that is being (re)established gets a short grace period, so that requests right
      // after start or a restart do not fail needlessly.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(timeoutMs, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (!this.isUp() || !this.socket) {
        throw new PeerError(this.peer, 'not-sent', 'not connected');
      }
    }
    const socket = this.socket!;
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: performance.now() + timeoutMs, timeoutMs });
      this.deadlineTimer ??= setInterval(() => this.expire(), DEADLINE_CHECK_MS);
      sendFrame(socket, { t: 'req', id, body });
    });
  }

  /** Fails the requests whose deadline passed; stops checking once none are in flight. */
  private expire(): void {
    const now = performance.now();
    for (const [id, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(id);
      if (this.unansweredSince === 0) this.unansweredSince = Date.now();
      p.reject(new PeerError(this.peer, 'timeout', `no reply within ${p.timeoutMs} ms`));
    }
    if (this.pending.size === 0) this.stopDeadlineChecks();
  }

  private stopDeadlineChecks(): void {
    clearInterval(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }

  /** Re-reads the state (it changes while awaiting, which narrowing cannot see). */
  private isUp(): boolean {
    return this.state === 'up';
  }

  close(): void {
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.stopDeadlineChecks();
    this.socket?.destroy();
  }
}

export class Transport {
  readonly self: string;
  readonly connectTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly maxBackoffMs: number;
  private readonly links = new Map<string, OutboundLink>();
  private readonly inbound = new Set<net.Socket>();
  private server: net.Server | undefined;
  garbageDisconnects = 0;

  constructor(private readonly opts: TransportOptions) {
    this.self = opts.self;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 1000;
    this.pingIntervalMs = opts.pingIntervalMs ?? 250;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 1500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 1000;
    for (const [id, addr] of opts.peers) {
      if (id !== opts.self) this.links.set(id, new OutboundLink(id, addr, this));
    }
  }

  log(level: 'debug' | 'info' | 'warn', line: string): void {
    this.opts.log(level, line);
  }

  /** Listens for peers, then dials them (see listen() and dial()). */
  async start(): Promise<void> {
    await this.listen();
    this.dial();
  }

  /** Listens for peers without dialling them yet (a node may listen for clients first). */
  async listen(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.listen.port, this.opts.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Starts the outbound link to every peer. */
  dial(): void {
    for (const link of this.links.values()) link.start();
  }

  /** Sends a request to a peer; rejects with a PeerError saying whether it may have arrived. */
  request(peer: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const link = this.links.get(peer);
    if (!link) return Promise.reject(new PeerError(peer, 'not-sent', 'unknown peer'));
    return link.request(body, timeoutMs);
  }

  /** Connected, and no request has timed out since we last heard from the peer. */
  reachable(peer: string): boolean {
    const link = this.links.get(peer);
    if (link?.state !== 'up') return false;
    return link.unansweredSince === 0 || Date.now() - link.unansweredSince < 200;
  }

  linkStates(): Record<string, string> {
    return Object.fromEntries([...this.links].map(([id, l]) => [id, l.state]));
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.inbound.add(socket);
    const decoder = new FrameDecoder();
    let from: string | undefined;
    const helloTimer = setTimeout(() => socket.destroy(), this.connectTimeoutMs * 5);
    const disconnect = (why: string) => {
      this.garbageDisconnects++;
      this.log('warn', `inbound peer ${from ?? socket.remoteAddress}: ${why}; disconnecting`);
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        disconnect(e instanceof FrameError ? e.message : String(e));
        return;
      }
      for (const raw of frames) {
        if (socket.destroyed) return;
        const msg = parseEnvelope(raw);
        if (!msg) return disconnect('malformed envelope');
        if (from === undefined) {
          if (msg.t !== 'hello') return disconnect(`expected hello, got ${msg.t}`);
          if (msg.to !== this.self) return disconnect(`hello addressed to ${msg.to}, not to me`);
          if (!this.links.has(msg.from)) return disconnect(`hello from unknown node ${msg.from}`);
          if (msg.v !== PROTOCOL_VERSION) return disconnect(`protocol version ${msg.v}`);
          clearTimeout(helloTimer);
          from = msg.from;
          sendFrame(socket, { t: 'welcome', from: this.self });
          continue;
        }
        if (msg.t === 'ping') sendFrame(socket, { t: 'pong' });
        else if (msg.t === 'req') this.serve(socket, from, msg.id, msg.body, disconnect);
        else return disconnect(`unexpected ${msg.t}`);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(helloTimer);
      this.inbound.delete(socket);
    });
  }

  private serve(
    socket: net.Socket,
    from: string,
    id: number,
    body: unknown,
    disconnect: (why: string) => void,
  ): void {
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(this.opts.handler(from, body));
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (reply) => sendFrame(socket, { t: 'res', id, ok: true, body: reply }),
      (e: unknown) => {
        if (e instanceof BadMessage) return disconnect(e.message);
        const message = e instanceof Error ? e.message : String(e);
        this.log('warn', `handling a request from ${from} failed: ${message}`);
        sendFrame(socket, { t: 'res', id, ok: false, error: message });
      },
    );
  }

  async close(): Promise<void> {
    for (const link of this.links.values()) link.close();
    for (const s of this.inbound) s.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  /** Port actually bound (useful with port 0). */
  port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }
}
