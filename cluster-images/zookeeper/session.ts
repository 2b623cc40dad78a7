import net from 'node:net';
import type { HostPort } from '../../core/cluster.js';
import {
  type ConnectResponse,
  decodeConnectResponse,
  decodeReply,
  encodeConnectRequest,
  encodeRequest,
  FrameReader,
  type JuteReader,
  type JuteWriter,
  NOTIFICATION_XID,
  OpCode,
  PING_XID,
  ProtocolError,
} from './protocol.js';

/** ZooKeeper's error codes (KeeperException.Code) that faultline names. */
export const ZkCode = {
  systemError: -1,
  runtimeInconsistency: -2,
  dataInconsistency: -3,
  connectionLoss: -4,
  marshallingError: -5,
  unimplemented: -6,
  operationTimeout: -7,
  badArguments: -8,
  unknownSession: -12,
  newConfigNoQuorum: -13,
  reconfigInProgress: -14,
  apiError: -100,
  noNode: -101,
  noAuth: -102,
  badVersion: -103,
  noChildrenForEphemerals: -108,
  nodeExists: -110,
  notEmpty: -111,
  sessionExpired: -112,
  invalidCallback: -113,
  invalidACL: -114,
  authFailed: -115,
  sessionMoved: -118,
  notReadOnly: -119,
  ephemeralOnLocalSession: -120,
  noWatcher: -121,
  requestTimeout: -122,
  reconfigDisabled: -123,
  sessionClosedRequireSasl: -124,
  quotaExceeded: -125,
  throttled: -127,
} as const;

const codeNames = new Map<number, string>(Object.entries(ZkCode).map(([k, v]) => [v, k]));
export const codeName = (code: number) => codeNames.get(code) ?? `code ${code}`;

/** The server answered a request with an error code (its reply header's `err`). */
export class ZkReplyError extends Error {
  override readonly name = 'ZkReplyError';
  constructor(
    readonly code: number,
    readonly op: string,
  ) {
    super(`${op}: ${codeName(code)} (${code})`);
  }
}

/**
 * The request was never written to a server: no connection, the handshake failed or was
 * refused (session expired), the session was already lost, or the op was aborted before. The
 * server cannot have seen it.
 */
export class NotSent extends Error {
  override readonly name = 'NotSent';
  constructor(
    message: string,
    readonly reason?: unknown,
  ) {
    super(message);
  }
}

/**
 * The connection ended (closed, reset, silent past the read timeout) while the request was
 * outstanding: it was written, so the server may or may not have applied it (ZooKeeper's
 * ConnectionLoss, -4).
 */
export class ConnectionLost extends Error {
  override readonly name = 'ConnectionLost';
  readonly zkCode = ZkCode.connectionLoss;
  constructor(
    message: string,
    readonly reason?: unknown,
  ) {
    super(message);
  }
}

export interface SessionOptions {
  /** The session timeout asked for (the server clamps it to [2, 20] ticks). */
  timeoutMs: number;
  /** Bound on the TCP connect plus the handshake. */
  connectTimeoutMs: number;
  /** The highest zxid the client has seen: a server behind it refuses the session. */
  lastZxidSeen?: bigint;
}

interface Pending {
  op: string;
  /** Absent once the op gave up (aborted): its reply is read and dropped. */
  settle?: { resolve(r: { zxid: bigint; rest: JuteReader }): void; reject(e: unknown): void };
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * One ZooKeeper session over one TCP connection. Requests are written once, in order, each
 * with its own xid; the server answers in the same order. While the session lives a ping goes
 * out when nothing was written for a third of the negotiated timeout, and the connection is
 * given up when nothing was read for two thirds of it (as ZooKeeper's own client does). When
 * the connection ends for any reason, every outstanding request fails with ConnectionLost and
 * the session is dead: no request is ever re-sent, and a caller wanting to go on opens a new
 * session.
 */
export class ZkSession {
  private readonly pending = new Map<number, Pending>();
  private nextXid = 1;
  private dead: Error | undefined;
  private lastRead = Date.now();
  private lastWrite = Date.now();
  private readonly timer: NodeJS.Timeout;
  /** The highest zxid seen in a reply. */
  lastZxid: bigint;

  private constructor(
    private readonly socket: net.Socket,
    readonly id: bigint,
    readonly timeoutMs: number,
    frames: FrameReader,
    lastZxid: bigint,
  ) {
    this.lastZxid = lastZxid;
    socket.on('data', (chunk: Buffer) => {
      this.lastRead = Date.now();
      try {
        for (const f of frames.push(chunk)) this.onFrame(f);
      } catch (e) {
        this.fail(e instanceof ProtocolError ? e : new ProtocolError(describe(e)));
      }
    });
    socket.on('error', (e) => this.fail(new ConnectionLost(`connection error: ${e.message}`, e)));
    socket.on('close', () => this.fail(new ConnectionLost('the server closed the connection')));
    const tick = Math.max(50, Math.floor(timeoutMs / 6));
    this.timer = setInterval(() => this.heartbeat(), tick);
    this.timer.unref();
  }

  /** Opens a new session: TCP connect, ConnectRequest, ConnectResponse. Fails with NotSent. */
  static async connect(
    address: HostPort,
    options: SessionOptions,
    signal?: AbortSignal,
  ): Promise<ZkSession> {
    const lastZxid = options.lastZxidSeen ?? 0n;
    const frames = new FrameReader();
    const socket = net.connect({ host: address.host, port: address.port });
    socket.setNoDelay(true);
    try {
      const response = await new Promise<ConnectResponse>((resolve, reject) => {
        const done = (e?: unknown, r?: ConnectResponse) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          socket.off('data', onData).off('error', onError).off('close', onClose);
          if (r !== undefined) resolve(r);
          else reject(e);
        };
        const timer = setTimeout(
          () => done(new Error(`no session within ${options.connectTimeoutMs} ms`)),
          options.connectTimeoutMs,
        );
        const onAbort = () => done(signal?.reason ?? new Error('aborted'));
        const onError = (e: Error) => done(e);
        const onClose = () => done(new Error('the server closed the connection in the handshake'));
        const onData = (chunk: Buffer) => {
          try {
            const [first, ...more] = frames.push(chunk);
            if (first === undefined) return;
            if (more.length > 0) throw new ProtocolError('frames after the ConnectResponse');
            done(undefined, decodeConnectResponse(first));
          } catch (e) {
            done(e);
          }
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        socket.on('data', onData).on('error', onError).on('close', onClose);
        socket.once('connect', () =>
          socket.write(
            encodeConnectRequest({
              protocolVersion: 0,
              lastZxidSeen: lastZxid,
              timeoutMs: options.timeoutMs,
              sessionId: 0n,
              password: Buffer.alloc(16),
              readOnly: false,
            }),
          ),
        );
      });
      if (response.timeoutMs <= 0) {
        throw new Error(`the server refused the session (${codeName(ZkCode.sessionExpired)})`);
      }
      return new ZkSession(socket, response.sessionId, response.timeoutMs, frames, lastZxid);
    } catch (e) {
      socket.destroy();
      if (signal?.aborted && e === signal.reason) throw e;
      throw new NotSent(`no session with ${address.host}:${address.port}: ${describe(e)}`, e);
    }
  }

  /** Why the session is over, or undefined while it lives. */
  get lost(): Error | undefined {
    return this.dead;
  }

  /**
   * Writes one request and resolves with its reply's zxid and a reader at the reply's record;
   * a reply with err ≠ 0 rejects with ZkReplyError. On abort the op gives up at once (its
   * reply, if any, is dropped when it comes).
   */
  request(
    op: string,
    type: number,
    body: ((w: JuteWriter) => void) | undefined,
    signal: AbortSignal,
  ): Promise<{ zxid: bigint; rest: JuteReader }> {
    if (this.dead !== undefined) {
      return Promise.reject(new NotSent(`${op} not sent: ${this.dead.message}`, this.dead));
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    const xid = this.nextXid++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const p = this.pending.get(xid);
        if (p !== undefined) delete p.settle;
        reject(signal.reason);
      };
      const settle = {
        resolve: (r: { zxid: bigint; rest: JuteReader }) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.pending.set(xid, { op, settle });
      signal.addEventListener('abort', onAbort, { once: true });
      this.write(encodeRequest({ xid, type }, body));
    });
  }

  /** Ends the session politely (closeSession, not awaited for long) and the connection. */
  async close(): Promise<void> {
    if (this.dead === undefined) {
      const bye = this.request(
        'closeSession',
        OpCode.closeSession,
        undefined,
        AbortSignal.timeout(500),
      );
      await bye.catch(() => undefined);
    }
    this.fail(new Error('the client closed the session'));
  }

  private write(frame: Buffer): void {
    this.lastWrite = Date.now();
    this.socket.write(frame);
  }

  private heartbeat(): void {
    if (this.dead !== undefined) return;
    const now = Date.now();
    if (now - this.lastRead > (this.timeoutMs * 2) / 3) {
      this.fail(
        new ConnectionLost(
          `nothing from the server for ${now - this.lastRead} ms (session timeout ${this.timeoutMs} ms)`,
        ),
      );
      return;
    }
    if (now - this.lastWrite >= this.timeoutMs / 3) {
      this.write(encodeRequest({ xid: PING_XID, type: OpCode.ping }));
    }
  }

  private onFrame(frame: Buffer): void {
    const { header, rest } = decodeReply(frame);
    if (header.xid === PING_XID || header.xid === NOTIFICATION_XID) return;
    const p = this.pending.get(header.xid);
    if (p === undefined) throw new ProtocolError(`a reply with xid ${header.xid}, never asked`);
    this.pending.delete(header.xid);
    if (header.zxid > this.lastZxid) this.lastZxid = header.zxid;
    if (header.err !== 0) p.settle?.reject(new ZkReplyError(header.err, p.op));
    else p.settle?.resolve({ zxid: header.zxid, rest });
  }

  /** The session is over: every outstanding request fails with `why` (once). */
  private fail(why: Error): void {
    if (this.dead !== undefined) return;
    this.dead = why;
    clearInterval(this.timer);
    this.socket.destroy();
    const outstanding = [...this.pending.values()];
    this.pending.clear();
    for (const p of outstanding) {
      p.settle?.reject(
        why instanceof ConnectionLost || why instanceof ProtocolError
          ? why
          : new ConnectionLost(`${p.op}: ${why.message}`, why),
      );
    }
  }
}
