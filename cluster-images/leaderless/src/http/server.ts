/**
 * The client-facing HTTP/1.1 server: keep-alive and pipelining over plain `net` sockets with the
 * store's own request parser (request-parser.ts). node:http's server costs more CPU per request
 * than the rest of a quorum write on the coordinator; this one does only what the API needs:
 * requests on a connection are handled one after another and answered in order, every answer
 * is one write of a head with content-length and a JSON body (the replica dump is streamed
 * chunked). Bad framing is answered with a 4xx JSON error and the connection closed; bad
 * content is answered by the routes with a 4xx and the connection stays usable.
 *
 * Resource bounds (so no client can take the node's memory): at most maxConnections
 * connections (more are answered 503 and closed); request bodies are admitted against a budget
 * of maxBufferedBytes for the whole server, reserved by content-length when a head arrives and
 * released when the request is dispatched (no room: 503, connection closed, nothing read); and a
 * request whose bytes started arriving must be complete within readTimeoutMs (else 408, closed).
 */
import net from 'node:net';
import { type Reply, unknown } from './reply.js';
import { type ParseItem, RequestParser } from './request-parser.js';
import { HttpError, parseUrl, route, type StoreApi } from './routes.js';

export type { Quorum, StoreApi } from './routes.js';

export interface HttpServerOptions {
  api: StoreApi;
  maxBodyBytes: number;
  log: (level: 'debug' | 'info' | 'warn', line: string) => void;
  /** A connection silent this long (between or within requests) is closed. */
  idleTimeoutMs?: number;
  /** Most open client connections (default 2048). */
  maxConnections?: number;
  /** Most request-body bytes held by all connections together (default 64 MiB). */
  maxBufferedBytes?: number;
  /** Longest a started request (head and body) may take to arrive (default 10 s). */
  readTimeoutMs?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 2048;
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
export const DEFAULT_READ_TIMEOUT_MS = 10_000;

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  405: 'Method Not Allowed',
  409: 'Conflict',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/** Stop reading from a client that pipelines more than this many unanswered requests. */
const MAX_QUEUED = 64;

class Connection {
  private readonly parser: RequestParser;
  private readonly queue: ParseItem[] = [];
  /** A request is being handled (its answer not yet written). */
  busy = false;
  closed = false;
  /** The client half-closed its side: answer what it sent, then close ours. */
  private ended = false;
  /** performance.now() of the last request bytes or answer (monotonic: clock jumps do not count). */
  lastActive = performance.now();
  /** performance.now() since which a partly received request has been waiting for its bytes. */
  readingSince: number | undefined;
  /** Body bytes this connection holds against the server's budget (admitted, not dispatched). */
  private reserved = 0;

  constructor(
    private readonly socket: net.Socket,
    private readonly server: LeanHttpServer,
  ) {
    this.parser = new RequestParser({
      maxBodyBytes: server.opts.maxBodyBytes,
      admitBody: (bytes) => {
        if (!server.reserve(bytes)) return false;
        this.reserved += bytes;
        return true;
      },
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const now = performance.now();
      this.lastActive = now;
      const items = this.parser.push(chunk);
      for (const item of items) this.queue.push(item);
      if (this.parser.buffered === 0) this.readingSince = undefined;
      else if (this.readingSince === undefined || items.length > 0) this.readingSince = now;
      if (this.queue.length > MAX_QUEUED) socket.pause();
      this.pump();
    });
    socket.on('end', () => {
      this.ended = true;
      this.pump();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.queue.length = 0;
      this.release(this.reserved);
      server.connections.delete(this);
    });
  }

  private release(bytes: number): void {
    const n = Math.min(bytes, this.reserved);
    this.reserved -= n;
    this.server.release(n);
  }

  /** The client is the one we wait for: a request is partly here and nothing of ours is pending. */
  get waitingOnClient(): boolean {
    return (
      this.readingSince !== undefined &&
      !this.busy &&
      this.queue.length === 0 &&
      !this.socket.isPaused()
    );
  }

  /** Answers 408 and closes: the started request did not arrive within the read deadline. */
  readTimedOut(): void {
    this.write(
      {
        status: 408,
        body: { error: 'the request did not arrive in time; nothing was done', outcome: 'failed' },
      },
      true,
    );
    this.socket.destroySoon();
  }

  get idle(): boolean {
    return !this.busy && this.queue.length === 0 && this.parser.buffered === 0;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Handles queued items in order, one request at a time. */
  private pump(): void {
    while (!this.busy && !this.closed) {
      const item = this.queue.shift();
      if (item === undefined) {
        if (this.ended) {
          this.closed = true;
          this.socket.end();
        }
        break;
      }
      if (this.socket.isPaused() && this.queue.length <= MAX_QUEUED / 2) this.socket.resume();
      switch (item.kind) {
        case 'continue':
          this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
          break;
        case 'error':
          // The stream cannot be resynchronised after a framing error: answer and close.
          this.write({ status: item.status, body: { error: item.error, outcome: 'failed' } }, true);
          return;
        case 'request':
          // Dispatched: its body leaves the budget (the route parses it at once).
          this.release(item.body.length);
          this.handle(item.method, item.target, item.body, item.close);
          break;
      }
    }
  }

  private handle(method: string, target: string, body: Buffer, close: boolean): void {
    const api = this.server.opts.api;
    let url: ReturnType<typeof parseUrl>;
    try {
      url = parseUrl(target);
    } catch {
      this.write({ status: 400, body: { error: 'malformed target', outcome: 'failed' } }, close);
      return;
    }
    if (url.pathname === '/admin/replica' && (method === 'GET' || method === 'HEAD')) {
      this.streamReplica(api, close, method === 'HEAD');
      return;
    }
    this.busy = true;
    const done = (reply: Reply) => {
      this.busy = false;
      if (this.closed) return;
      this.write(reply, close, method === 'HEAD');
      this.pump();
    };
    route(api, method, url, body.length > 0 ? body : undefined).then(done, (e: unknown) => {
      if (e instanceof HttpError) {
        done(e.reply);
        return;
      }
      this.server.opts.log(
        'warn',
        `http ${method} ${target}: ${e instanceof Error ? e.stack : String(e)}`,
      );
      done(unknown(`internal error: ${e instanceof Error ? e.message : String(e)}`, 500));
    });
  }

  private write(reply: Reply, close: boolean, headOnly = false): void {
    if (this.closed) return;
    // idle time counts from the last answer too (a slow request must not make it look idle)
    this.lastActive = performance.now();
    const payload = JSON.stringify(reply.body);
    // After refusing an oversized body we stop reading it, so the connection cannot be reused.
    const closing = close || reply.status === 413;
    const head =
      `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? 'Unknown'}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n` +
      (closing ? 'connection: close\r\n\r\n' : '\r\n');
    const text = headOnly ? head : head + payload;
    if (closing) {
      this.closed = true;
      this.queue.length = 0;
      this.socket.end(text);
    } else {
      this.socket.write(text);
    }
  }

  /** GET /admin/replica: JSON lines, chunked, honouring back-pressure. */
  private streamReplica(api: StoreApi, close: boolean, headOnly: boolean): void {
    const socket = this.socket;
    socket.write(
      'HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n' +
        (close ? 'connection: close\r\n\r\n' : '\r\n'),
    );
    const finish = () => {
      this.busy = false;
      if (close) {
        this.closed = true;
        if (headOnly) socket.end();
        else socket.end('0\r\n\r\n');
        return;
      }
      if (!headOnly) socket.write('0\r\n\r\n');
      this.pump();
    };
    if (headOnly) {
      finish();
      return;
    }
    this.busy = true;
    const it = api.replicaDump()[Symbol.iterator]();
    const pump = () => {
      for (;;) {
        if (this.closed || socket.destroyed) return;
        // A few records per chunk keeps the per-chunk overhead small.
        let text = '';
        for (let i = 0; i < 64; i++) {
          const next = it.next();
          if (next.done) break;
          text += `${JSON.stringify(next.value)}\n`;
        }
        if (text === '') {
          finish();
          return;
        }
        if (!socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  }
}

export class LeanHttpServer {
  readonly connections = new Set<Connection>();
  private readonly server: net.Server;
  private readonly sweeper: NodeJS.Timeout;
  private readonly maxConnections: number;
  private readonly maxBufferedBytes: number;
  /** Body bytes admitted and not yet dispatched, over all connections. */
  private bufferedBytes = 0;
  refusedConnections = 0;
  refusedBodies = 0;

  constructor(readonly opts: HttpServerOptions) {
    this.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    // Half-open: a client that sends its requests and then shuts down its side gets its answers.
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => {
      if (this.connections.size >= this.maxConnections) {
        this.refuse(socket);
        return;
      }
      this.connections.add(new Connection(socket, this));
    });
    const idleMs = opts.idleTimeoutMs ?? 65_000;
    const readMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    // One sweep for all connections instead of a timer per socket refreshed on every byte.
    const every = Math.max(10, Math.min(1000, idleMs, readMs / 2));
    let lastSweep = performance.now();
    this.sweeper = setInterval(() => {
      const now = performance.now();
      // A sweep far behind schedule means this process was stopped (SIGSTOP) or starved: the
      // bytes clients sent meanwhile are still unread, so nobody's clock counts that gap.
      const stalled = now - lastSweep > every * 3;
      lastSweep = now;
      for (const c of this.connections) {
        if (stalled) {
          c.lastActive = now;
          if (c.readingSince !== undefined) c.readingSince = now;
          continue;
        }
        if (!c.busy && c.lastActive < now - idleMs) c.destroy();
        else if (c.waitingOnClient && c.readingSince! < now - readMs) c.readTimedOut();
        else if (!c.waitingOnClient && c.readingSince !== undefined) c.readingSince = now;
      }
    }, every);
    this.sweeper.unref();
  }

  /** Takes `bytes` from the body budget, or refuses (false) when they do not fit. */
  reserve(bytes: number): boolean {
    if (this.bufferedBytes + bytes > this.maxBufferedBytes) {
      this.refusedBodies++;
      return false;
    }
    this.bufferedBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.bufferedBytes -= bytes;
  }

  stats(): {
    connections: number;
    bufferedBytes: number;
    refusedConnections: number;
    refusedBodies: number;
  } {
    return {
      connections: this.connections.size,
      bufferedBytes: this.bufferedBytes,
      refusedConnections: this.refusedConnections,
      refusedBodies: this.refusedBodies,
    };
  }

  /** Over the connection limit: a 503 (nothing was done) and close, without reading anything. */
  private refuse(socket: net.Socket): void {
    this.refusedConnections++;
    socket.on('error', () => {});
    const payload = JSON.stringify({
      error: `too many connections (${this.maxConnections}); nothing was done, try again`,
      outcome: 'failed',
    });
    socket.end(
      `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(payload)}\r\nconnection: close\r\n\r\n${payload}`,
    );
    // Whatever the client sends is not read; drop the socket if it does not close its side.
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  address(): net.AddressInfo {
    return this.server.address() as net.AddressInfo;
  }

  /** Stops accepting connections; open ones keep being served until closed. */
  close(): Promise<void> {
    clearInterval(this.sweeper);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  closeIdleConnections(): void {
    for (const c of this.connections) if (c.idle) c.destroy();
  }

  closeAllConnections(): void {
    for (const c of this.connections) c.destroy();
  }
}

export function createHttpServer(opts: HttpServerOptions): LeanHttpServer {
  return new LeanHttpServer(opts);
}
