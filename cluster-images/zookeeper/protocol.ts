/**
 * ZooKeeper's client wire protocol (jute records, big-endian), as far as faultline's clients use
 * it: the session handshake, a request header {xid, type} and a reply header {xid, zxid, err},
 * and the records of create, exists, getData, setData, getChildren, sync, ping and
 * closeSession. Every message travels as a frame: a 4-byte length, then that many bytes.
 *
 * Decoding checks every length against what is left of the frame and against fixed bounds, so a
 * malformed frame is a ProtocolError, never a read past the end or a wait for bytes that will
 * not come.
 */

/** Operation codes (ZooDefs.OpCode). */
export const OpCode = {
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getChildren: 8,
  sync: 9,
  ping: 11,
  closeSession: -11,
} as const;

/** The xids ZooKeeper reserves: watch notifications and pings (ours count up from 1). */
export const NOTIFICATION_XID = -1;
export const PING_XID = -2;

/** The largest frame either side accepts (ZooKeeper's jute.maxbuffer default is 1 MiB). */
export const MAX_FRAME = 1024 * 1024 + 1024;
/** A string or buffer longer than this inside a frame is refused (the frame bound covers it). */
const MAX_FIELD = MAX_FRAME;
/** A vector longer than this is refused (each element takes at least 4 bytes anyway). */
const MAX_VECTOR = MAX_FRAME / 4;

/** The open ACL (world:anyone, every permission): ZooDefs.Ids.OPEN_ACL_UNSAFE. */
export const OPEN_ACL = [{ perms: 31, scheme: 'world', id: 'anyone' }] as const;

/** A frame or record that does not follow the protocol. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** Appends jute fields to a growing buffer. */
export class JuteWriter {
  private chunks: Buffer[] = [];

  int(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.chunks.push(b);
    return this;
  }

  long(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.chunks.push(b);
    return this;
  }

  bool(v: boolean): this {
    this.chunks.push(Buffer.from([v ? 1 : 0]));
    return this;
  }

  /** A byte buffer: its length, then its bytes; null as length -1. */
  buffer(v: Uint8Array | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    this.chunks.push(Buffer.from(v));
    return this;
  }

  /** A string: its UTF-8 length, then its bytes; null as length -1. */
  string(v: string | null): this {
    return this.buffer(v === null ? null : Buffer.from(v, 'utf8'));
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** The record with its 4-byte length in front: one frame. */
  frame(): Buffer {
    const body = this.bytes();
    const head = Buffer.alloc(4);
    head.writeInt32BE(body.length);
    return Buffer.concat([head, body]);
  }
}

/** Reads jute fields from one frame's body, refusing anything that runs past its end. */
export class JuteReader {
  private at = 0;

  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.at;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new ProtocolError(
        `truncated record: ${what} needs ${n} bytes, ${this.remaining} left of ${this.buf.length}`,
      );
    }
  }

  int(what = 'int'): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  long(what = 'long'): bigint {
    this.need(8, what);
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }

  bool(what = 'bool'): boolean {
    this.need(1, what);
    const v = this.buf[this.at] as number;
    this.at += 1;
    if (v !== 0 && v !== 1) throw new ProtocolError(`${what}: expected a boolean byte, got ${v}`);
    return v === 1;
  }

  buffer(what = 'buffer'): Buffer | null {
    const n = this.int(`${what} length`);
    if (n === -1) return null;
    if (n < -1 || n > MAX_FIELD) throw new ProtocolError(`${what}: bad length ${n}`);
    this.need(n, what);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }

  string(what = 'string'): string | null {
    const b = this.buffer(what);
    return b === null ? null : b.toString('utf8');
  }

  /** A vector of `item`s; null as count -1. */
  vector<T>(what: string, item: (r: JuteReader) => T): T[] | null {
    const n = this.int(`${what} count`);
    if (n === -1) return null;
    if (n < -1 || n > MAX_VECTOR) throw new ProtocolError(`${what}: bad count ${n}`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }

  /** Nothing may follow the record (a reply longer than its record is not understood). */
  end(what: string): void {
    if (this.remaining !== 0) {
      throw new ProtocolError(`${what}: ${this.remaining} unexpected bytes after the record`);
    }
  }
}

/**
 * Cuts a byte stream into frames. `push` takes what the socket gave and returns every whole
 * frame body so far; a length below 0 or above MAX_FRAME is a ProtocolError at once (the
 * stream cannot be resynchronised after it).
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly max = MAX_FRAME) {}

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    while (this.pending.length >= 4) {
      const n = this.pending.readInt32BE(0);
      if (n < 0 || n > this.max) {
        throw new ProtocolError(`bad frame length ${n} (expected 0..${this.max})`);
      }
      if (this.pending.length < 4 + n) break;
      frames.push(this.pending.subarray(4, 4 + n));
      this.pending = this.pending.subarray(4 + n);
    }
    return frames;
  }
}

/** A znode's metadata (jute Stat). */
export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.long('stat.czxid'),
    mzxid: r.long('stat.mzxid'),
    ctime: r.long('stat.ctime'),
    mtime: r.long('stat.mtime'),
    version: r.int('stat.version'),
    cversion: r.int('stat.cversion'),
    aversion: r.int('stat.aversion'),
    ephemeralOwner: r.long('stat.ephemeralOwner'),
    dataLength: r.int('stat.dataLength'),
    numChildren: r.int('stat.numChildren'),
    pzxid: r.long('stat.pzxid'),
  };
}

export function writeStat(w: JuteWriter, s: Stat): JuteWriter {
  return w
    .long(s.czxid)
    .long(s.mzxid)
    .long(s.ctime)
    .long(s.mtime)
    .int(s.version)
    .int(s.cversion)
    .int(s.aversion)
    .long(s.ephemeralOwner)
    .int(s.dataLength)
    .int(s.numChildren)
    .long(s.pzxid);
}

/** ConnectRequest: a new session when sessionId is 0 (password: 16 zero bytes). */
export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: bigint;
  timeoutMs: number;
  sessionId: bigint;
  password: Uint8Array;
  readOnly: boolean;
}

export function encodeConnectRequest(c: ConnectRequest): Buffer {
  return new JuteWriter()
    .int(c.protocolVersion)
    .long(c.lastZxidSeen)
    .int(c.timeoutMs)
    .long(c.sessionId)
    .buffer(c.password)
    .bool(c.readOnly)
    .frame();
}

export function decodeConnectRequest(body: Buffer): ConnectRequest {
  const r = new JuteReader(body);
  const c: ConnectRequest = {
    protocolVersion: r.int('protocolVersion'),
    lastZxidSeen: r.long('lastZxidSeen'),
    timeoutMs: r.int('timeOut'),
    sessionId: r.long('sessionId'),
    password: r.buffer('passwd') ?? Buffer.alloc(0),
    readOnly: r.remaining > 0 ? r.bool('readOnly') : false,
  };
  return c;
}

/** ConnectResponse. A timeout ≤ 0 means the server refused the session (expired). */
export interface ConnectResponse {
  protocolVersion: number;
  timeoutMs: number;
  sessionId: bigint;
  password: Buffer;
  readOnly: boolean;
}

export function encodeConnectResponse(c: ConnectResponse): Buffer {
  return new JuteWriter()
    .int(c.protocolVersion)
    .int(c.timeoutMs)
    .long(c.sessionId)
    .buffer(c.password)
    .bool(c.readOnly)
    .frame();
}

export function decodeConnectResponse(body: Buffer): ConnectResponse {
  const r = new JuteReader(body);
  const c: ConnectResponse = {
    protocolVersion: r.int('protocolVersion'),
    timeoutMs: r.int('timeOut'),
    sessionId: r.long('sessionId'),
    password: r.buffer('passwd') ?? Buffer.alloc(0),
    // Servers before 3.4 leave the flag out.
    readOnly: r.remaining > 0 ? r.bool('readOnly') : false,
  };
  r.end('ConnectResponse');
  return c;
}

export interface RequestHeader {
  xid: number;
  type: number;
}

export interface ReplyHeader {
  xid: number;
  zxid: bigint;
  err: number;
}

/** A request as sent: the header, then the operation's record. */
export function encodeRequest(h: RequestHeader, body?: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter().int(h.xid).int(h.type);
  body?.(w);
  return w.frame();
}

/** A reply frame: its header, and a reader positioned at the operation's record. */
export function decodeReply(body: Buffer): { header: ReplyHeader; rest: JuteReader } {
  const r = new JuteReader(body);
  const header = { xid: r.int('xid'), zxid: r.long('zxid'), err: r.int('err') };
  return { header, rest: r };
}

export function encodeReply(h: ReplyHeader, body?: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter().int(h.xid).long(h.zxid).int(h.err);
  body?.(w);
  return w.frame();
}

/** The operation records (requests). */
export const requests = {
  create(w: JuteWriter, path: string, data: Uint8Array, flags = 0): void {
    w.string(path).buffer(data).int(OPEN_ACL.length);
    for (const acl of OPEN_ACL) w.int(acl.perms).string(acl.scheme).string(acl.id);
    w.int(flags);
  },
  /** exists, getData and getChildren: the path and the watch flag (never set by faultline). */
  pathWatch(w: JuteWriter, path: string): void {
    w.string(path).bool(false);
  },
  setData(w: JuteWriter, path: string, data: Uint8Array, version: number): void {
    w.string(path).buffer(data).int(version);
  },
  /** delete: the path and the version expected (-1: any). */
  delete(w: JuteWriter, path: string, version: number): void {
    w.string(path).int(version);
  },
  sync(w: JuteWriter, path: string): void {
    w.string(path);
  },
};

/** The operation records (replies to an err 0). */
export const replies = {
  create(r: JuteReader): string {
    const path = r.string('created path');
    r.end('CreateResponse');
    if (path === null) throw new ProtocolError('CreateResponse: null path');
    return path;
  },
  stat(r: JuteReader, what: string): Stat {
    const s = readStat(r);
    r.end(what);
    return s;
  },
  getData(r: JuteReader): { data: Buffer; stat: Stat } {
    const data = r.buffer('data') ?? Buffer.alloc(0);
    const stat = readStat(r);
    r.end('GetDataResponse');
    return { data, stat };
  },
  getChildren(r: JuteReader): string[] {
    const names = r.vector('children', (x) => x.string('child'));
    r.end('GetChildrenResponse');
    return (names ?? []).map((n) => {
      if (n === null) throw new ProtocolError('GetChildrenResponse: a null child name');
      return n;
    });
  },
  sync(r: JuteReader): string {
    const path = r.string('synced path');
    r.end('SyncResponse');
    return path ?? '';
  },
};
