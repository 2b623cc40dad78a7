/**
 * The store benches' load generator client: a minimal HTTP/1.1 keep-alive client, one connection
 * per (client, node port), one request in flight on each. node:http's client costs several times
 * the server's work per request, and the load generator shares the machine's two cores with the
 * nodes, so its cost would cap the numbers. It handles exactly what the store sends
 * (content-length bodies).
 */
import net from 'node:net';

export interface Reply {
  status: number;
  text: string;
}

class Conn {
  private readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;

  constructor(port: number, timeoutMs: number | undefined) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.setNoDelay(true);
    if (timeoutMs !== undefined) {
      this.socket.setTimeout(timeoutMs, () => this.socket.destroy(new Error('timeout')));
    }
    this.socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.tryParse();
    });
    const fail = (e: Error) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(e);
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('connection closed')));
  }

  private tryParse(): void {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.toString('latin1', 0, end);
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    const len = m ? Number(m[1]) : 0;
    if (this.buf.length < end + 4 + len) return;
    const status = Number(head.slice(9, 12));
    const text = this.buf.toString('utf8', end + 4, end + 4 + len);
    this.buf = this.buf.subarray(end + 4 + len);
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve({ status, text });
  }

  request(method: string, path: string, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      const len = body === undefined ? 0 : Buffer.byteLength(body);
      this.socket.write(
        `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
          (body === undefined
            ? ''
            : `content-type: application/json\r\ncontent-length: ${len}\r\n`) +
          `\r\n${body ?? ''}`,
      );
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * The connections of one load generator: `request` reuses (or opens) the connection of
 * `client` to `port`, and drops it when a request on it fails (the next opens a fresh one).
 * `timeoutMs`: a connection idle that long while waiting fails its request.
 */
export class KeepAliveConns {
  private readonly conns = new Map<string, Conn>();

  constructor(private readonly timeoutMs?: number) {}

  request(port: number, client: number, method: string, path: string, body?: string) {
    const id = `${client}@${port}`;
    let conn = this.conns.get(id);
    if (!conn) {
      conn = new Conn(port, this.timeoutMs);
      this.conns.set(id, conn);
    }
    return conn.request(method, path, body).catch((e: unknown) => {
      this.conns.get(id)?.close();
      this.conns.delete(id);
      throw e;
    });
  }

  closeAll(): void {
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}
