/**
 * The client-facing HTTP/1.1 server: keep-alive and pipelining over plain `net` sockets with the
 * store's own request parser (request-parser.ts). node:http's server costs more CPU per request
 * than the rest of a quorum write on the coordinator; this one does only what the API needs:
 * requests on a connection are handled one after another and answered in order, every answer
 * is one write of a head with content-length and a JSON body (the replica dump is streamed
 * chunked). Bad framing is answered with a 4xx JSON error and the connection closed; bad
 * content is answered by the routes with a 4xx and the connection stays usable.
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
}

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
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

  constructor(
    private readonly socket: net.Socket,
    private readonly server: LeanHttpServer,
  ) {
    this.parser = new RequestParser({ maxBodyBytes: server.opts.maxBodyBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.lastActive = performance.now();
      for (const item of this.parser.push(chunk)) this.queue.push(item);
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
      server.connections.delete(this);
    });
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

  constructor(readonly opts: HttpServerOptions) {
    // Half-open: a client that sends its requests and then shuts down its side gets its answers.
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => {
      this.connections.add(new Connection(socket, this));
    });
    const idleMs = opts.idleTimeoutMs ?? 65_000;
    // One sweep for all connections instead of a timer per socket refreshed on every byte.
    this.sweeper = setInterval(
      () => {
        const cutoff = performance.now() - idleMs;
        for (const c of this.connections) if (!c.busy && c.lastActive < cutoff) c.destroy();
      },
      Math.min(5000, idleMs),
    );
    this.sweeper.unref();
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
