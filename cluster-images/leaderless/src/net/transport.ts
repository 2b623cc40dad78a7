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
 *
 * Before a connection is authenticated it may hold little: frames of at most
 * MAX_HANDSHAKE_FRAME_BYTES, a handshake deadline, at most maxPendingConnections such connections
 * (the oldest is dropped for a new one), and only the handshake messages in order. With a cluster
 * secret both ends prove they know it (peer-auth.ts) before anything else is read. Once
 * authenticated, a peer keeps one inbound connection (a newer handshake replaces the older).
 */
import net from 'node:net';
import { type Envelope, PROTOCOL_VERSION, parseEnvelope } from './envelope.js';
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_BYTES } from './frame.js';
import { type HandshakeIds, newNonce, proof, verifyProof } from './peer-auth.js';

/** Largest frame either end reads before the handshake completed (a hello is ~200 bytes). */
export const MAX_HANDSHAKE_FRAME_BYTES = 4096;
/** Default bound on inbound connections that have not completed their handshake. */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 32;

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

/**
 * Thrown by a request handler for a request body it cannot accept: that request alone fails
 * (the peer gets an error reply) and the connection, shared by all requests, stays up.
 */
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
  /** Shared cluster secret: peers must prove they know it (challenge-response HMAC). */
  secret?: string;
  /** Most inbound connections waiting for their handshake (default 32). */
  maxPendingConnections?: number;
  /** How long an inbound connection may take to complete its handshake (default 2 × connect). */
  handshakeTimeoutMs?: number;
}

/** The dialer's side of one connection's handshake. */
interface DialHandshake {
  timer: NodeJS.Timeout;
  /** Our challenge to the acceptor (with a secret). */
  nonce: string | undefined;
  /** The acceptor proved it knows the secret. */
  proven: boolean;
  decoder: FrameDecoder;
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
    const hs: DialHandshake = {
      timer: setTimeout(
        () => socket.destroy(new Error('handshake timed out')),
        this.t.connectTimeoutMs,
      ),
      nonce: this.t.secret === undefined ? undefined : newNonce(),
      proven: false,
      // Until the peer is known to be who we dialled, it may send only small frames.
      decoder: new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES),
    };
    socket.on('connect', () => {
      const hello: Envelope = { t: 'hello', v: PROTOCOL_VERSION, from: this.t.self, to: this.peer };
      if (hs.nonce !== undefined) hello.nonce = hs.nonce;
      sendFrame(socket, hello);
    });
    socket.on('data', (chunk: Buffer) => {
      hs.decoder.feed(chunk);
      this.lastHeard = Date.now();
      this.unansweredSince = 0;
      for (;;) {
        let frame: { value: unknown } | undefined;
        try {
          frame = hs.decoder.next();
        } catch (e) {
          this.t.log(
            'warn',
            `peer ${this.peer} sent garbage (${(e as Error).message}); disconnecting`,
          );
          socket.destroy();
          return;
        }
        if (frame === undefined) return;
        const msg = parseEnvelope(frame.value);
        if (!msg) {
          this.t.log('warn', `peer ${this.peer} sent a malformed message; disconnecting`);
          socket.destroy();
          return;
        }
        this.onMessage(socket, msg, hs);
        if (socket.destroyed) return;
      }
    });
    socket.on('error', (e) => {
      this.t.log('debug', `link to ${this.peer}: ${e.message}`);
    });
    socket.on('close', () => {
      clearTimeout(hs.timer);
      if (this.socket === socket) this.onDown();
    });
  }

  private authFailed(socket: net.Socket, why: string): void {
    this.t.authFailures++;
    this.t.log('warn', `link to ${this.peer}: ${why}; disconnecting`);
    socket.destroy();
  }

  private onMessage(socket: net.Socket, msg: Envelope, hs: DialHandshake): void {
    const up = this.state === 'up' && this.socket === socket;
    switch (msg.t) {
      case 'challenge': {
        if (up || hs.proven) break;
        if (this.t.secret === undefined || hs.nonce === undefined) {
          this.authFailed(socket, 'the peer requires a cluster secret and this node has none');
          return;
        }
        const ids: HandshakeIds = {
          dialer: this.t.self,
          acceptor: this.peer,
          dialerNonce: hs.nonce,
          acceptorNonce: msg.nonce,
        };
        if (!verifyProof(this.t.secret, 'acceptor', ids, msg.proof)) {
          this.authFailed(socket, 'the peer failed authentication (another cluster secret?)');
          return;
        }
        hs.proven = true;
        sendFrame(socket, { t: 'auth', proof: proof(this.t.secret, 'dialer', ids) });
        return;
      }
      case 'welcome':
        if (up) break;
        if (msg.from !== this.peer) {
          this.t.log('warn', `address of ${this.peer} answered as ${msg.from}; disconnecting`);
          socket.destroy();
          return;
        }
        if (this.t.secret !== undefined && !hs.proven) {
          this.authFailed(socket, 'the peer did not authenticate (no cluster secret?)');
          return;
        }
        clearTimeout(hs.timer);
        hs.decoder.maxFrameBytes = MAX_FRAME_BYTES;
        this.state = 'up';
        this.backoffMs = 0;
        this.connects++;
        this.t.log('info', `link to ${this.peer} up`);
        this.startPings(socket);
        for (const w of this.waiters.splice(0)) w();
        return;
      case 'res': {
        if (!up) break;
        const p = this.pending.get(msg.id);
        if (!p) return; // late reply to a timed-out request
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.body);
        else p.reject(new PeerError(this.peer, 'remote', msg.error ?? 'error'));
        return;
      }
      case 'pong':
        if (!up) break;
        return;
      default:
        break;
    }
    this.t.log(
      'warn',
      `peer ${this.peer} sent ${msg.t} out of turn on an outbound link; disconnecting`,
    );
    socket.destroy();
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
  readonly secret: string | undefined;
  private readonly maxPending: number;
  private readonly handshakeTimeoutMs: number;
  private readonly links = new Map<string, OutboundLink>();
  /** Every accepted socket (to close them all on close()). */
  private readonly inbound = new Set<net.Socket>();
  /** Accepted sockets still in their handshake, oldest first. */
  private readonly pending = new Set<net.Socket>();
  /** The one authenticated inbound connection of each peer. */
  private readonly inboundByPeer = new Map<string, net.Socket>();
  private server: net.Server | undefined;
  garbageDisconnects = 0;
  authFailures = 0;
  badRequests = 0;
  pendingDropped = 0;

  constructor(private readonly opts: TransportOptions) {
    this.self = opts.self;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 1000;
    this.pingIntervalMs = opts.pingIntervalMs ?? 250;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 1500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 1000;
    this.secret = opts.secret;
    this.maxPending = opts.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS;
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? this.connectTimeoutMs * 2;
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

  /** Counters and bounds for /admin/status and tests. */
  stats() {
    return {
      pending: this.pending.size,
      authenticated: this.inboundByPeer.size,
      pendingDropped: this.pendingDropped,
      authFailures: this.authFailures,
      badRequests: this.badRequests,
      garbageDisconnects: this.garbageDisconnects,
      links: Object.fromEntries(
        [...this.links].map(([id, l]) => [id, { state: l.state, connects: l.connects }]),
      ),
    };
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    if (this.pending.size >= this.maxPending) {
      // Drop the oldest: a real peer's handshake takes a round trip, so it is rarely the oldest.
      const oldest = this.pending.values().next().value;
      if (oldest) {
        this.pending.delete(oldest);
        this.pendingDropped++;
        this.log('debug', `too many connections in their handshake; dropping the oldest`);
        oldest.destroy();
      }
    }
    this.inbound.add(socket);
    this.pending.add(socket);
    const decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
    /** Set once the peer completed the handshake (and proved the secret, with one). */
    let from: string | undefined;
    /** With a secret: the hello we answered with a challenge, awaiting the peer's proof. */
    let challenged: HandshakeIds | undefined;
    const deadline = setTimeout(() => {
      this.log('debug', `inbound connection from ${socket.remoteAddress}: no handshake in time`);
      socket.destroy();
    }, this.handshakeTimeoutMs);
    const disconnect = (why: string) => {
      this.garbageDisconnects++;
      this.log('warn', `inbound peer ${from ?? socket.remoteAddress}: ${why}; disconnecting`);
      socket.destroy();
    };
    const authFailed = (why: string) => {
      this.authFailures++;
      disconnect(why);
    };
    const complete = (id: string) => {
      clearTimeout(deadline);
      from = id;
      this.pending.delete(socket);
      decoder.maxFrameBytes = MAX_FRAME_BYTES;
      const older = this.inboundByPeer.get(id);
      if (older && older !== socket) {
        this.log('info', `new inbound connection from ${id} replaces its older one`);
        older.destroy();
      }
      this.inboundByPeer.set(id, socket);
      sendFrame(socket, { t: 'welcome', from: this.self });
    };
    /** One handshake message; anything out of order drops the connection before more is read. */
    const handshake = (msg: Envelope) => {
      if (challenged !== undefined) {
        if (msg.t !== 'auth') return authFailed(`expected auth, got ${msg.t}`);
        if (!verifyProof(this.secret ?? '', 'dialer', challenged, msg.proof)) {
          return authFailed(`${challenged.dialer} failed authentication (another cluster secret?)`);
        }
        return complete(challenged.dialer);
      }
      if (msg.t !== 'hello') return disconnect(`expected hello, got ${msg.t}`);
      if (msg.to !== this.self) return disconnect(`hello addressed to ${msg.to}, not to me`);
      if (!this.links.has(msg.from)) return disconnect(`hello from unknown node ${msg.from}`);
      if (msg.v !== PROTOCOL_VERSION) return disconnect(`protocol version ${msg.v}`);
      if (this.secret === undefined) return complete(msg.from);
      if (msg.nonce === undefined) {
        return authFailed(`${msg.from} offered no authentication (no cluster secret?)`);
      }
      challenged = {
        dialer: msg.from,
        acceptor: this.self,
        dialerNonce: msg.nonce,
        acceptorNonce: newNonce(),
      };
      sendFrame(socket, {
        t: 'challenge',
        nonce: challenged.acceptorNonce,
        proof: proof(this.secret, 'acceptor', challenged),
      });
    };
    socket.on('data', (chunk: Buffer) => {
      decoder.feed(chunk);
      for (;;) {
        if (socket.destroyed) return;
        let frame: { value: unknown } | undefined;
        try {
          frame = decoder.next();
        } catch (e) {
          const why = e instanceof FrameError ? e.message : String(e);
          return disconnect(from === undefined ? `handshake: ${why}` : why);
        }
        if (frame === undefined) return;
        const msg = parseEnvelope(frame.value);
        if (!msg) return disconnect('malformed envelope');
        if (from === undefined) handshake(msg);
        else if (msg.t === 'ping') sendFrame(socket, { t: 'pong' });
        else if (msg.t === 'req') this.serve(socket, from, msg.id, msg.body);
        else return disconnect(`unexpected ${msg.t}`);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(deadline);
      this.inbound.delete(socket);
      this.pending.delete(socket);
      if (from !== undefined && this.inboundByPeer.get(from) === socket) {
        this.inboundByPeer.delete(from);
      }
    });
  }

  private serve(socket: net.Socket, from: string, id: number, body: unknown): void {
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(this.opts.handler(from, body));
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (reply) => sendFrame(socket, { t: 'res', id, ok: true, body: reply }),
      (e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        if (e instanceof BadMessage) {
          this.badRequests++;
          this.log('warn', `refused a request from ${from}: ${message}`);
        } else {
          this.log('warn', `handling a request from ${from} failed: ${message}`);
        }
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
