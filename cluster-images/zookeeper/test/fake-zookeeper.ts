import net from 'node:net';
import type { HostPort } from '../../../core/cluster.js';
import {
  type ConnectRequest,
  decodeConnectRequest,
  encodeConnectResponse,
  encodeReply,
  FrameReader,
  JuteReader,
  type JuteWriter,
  OpCode,
  PING_XID,
  type Stat,
  writeStat,
} from '../protocol.js';

/** One request the fake server read: its header and its record's fields. */
export interface SeenRequest {
  xid: number;
  type: number;
  path?: string;
  data?: string;
  version?: number;
}

/**
 * What the fake does with a request: answer from its store (`store`), answer with an error code,
 * drop the connection, never answer, or send these raw bytes.
 */
export type Answer = 'store' | { err: number } | 'drop' | 'silent' | { raw: Buffer };

export interface FakeZookeeper {
  address: HostPort;
  seen: SeenRequest[];
  /** Znode data by path (the store the `store` answers use). */
  znodes: Map<string, { data: Buffer; version: number }>;
  /** What `srvr` reports as `Mode:` (undefined: "not currently serving"). */
  mode: string | undefined;
  /** Sessions opened so far. */
  sessions: number;
  /** Whether pings are answered (false: the server looks hung). */
  answerPings: boolean;
  /** Every ConnectRequest read, in order. */
  connects: ConnectRequest[];
  /** Answer ConnectRequests with timeout 0 (the way a server refuses an expired session). */
  refuseSessions: boolean;
  close(): Promise<void>;
}

const stat = (version: number, dataLength: number, numChildren = 0): Stat => ({
  czxid: 1n,
  mzxid: 1n,
  ctime: 0n,
  mtime: 0n,
  version,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength,
  numChildren,
  pzxid: 1n,
});

/** Reads the record of a request whose fields the tests look at. */
function parseRequest(xid: number, type: number, r: JuteReader): SeenRequest {
  const seen: SeenRequest = { xid, type };
  const withPath: number[] = [
    OpCode.create,
    OpCode.delete,
    OpCode.exists,
    OpCode.getData,
    OpCode.setData,
    OpCode.getChildren,
    OpCode.sync,
  ];
  if (withPath.includes(type)) seen.path = r.string() ?? '';
  if (type === OpCode.create || type === OpCode.setData) {
    seen.data = (r.buffer() ?? Buffer.alloc(0)).toString('utf8');
  }
  if (type === OpCode.setData || type === OpCode.delete) seen.version = r.int();
  return seen;
}

/**
 * A small TCP server speaking enough of ZooKeeper's protocol for the client's tests: the
 * session handshake, pings, create / getData / setData / getChildren / sync / delete against an
 * in-memory store with versions, and the four-letter `srvr`. `answer` decides, per request,
 * whether the store answers or something else happens (an error code, a dropped connection,
 * silence, raw bytes).
 */
export async function fakeZookeeper(
  answer: (req: SeenRequest) => Answer = () => 'store',
): Promise<FakeZookeeper> {
  const fake: FakeZookeeper = {
    address: { host: '127.0.0.1', port: 0 },
    seen: [],
    znodes: new Map(),
    mode: 'follower',
    sessions: 0,
    answerPings: true,
    connects: [],
    refuseSessions: false,
    close: async () => undefined,
  };
  const sockets = new Set<net.Socket>();
  let zxid = 100n;
  const fromStore = (req: SeenRequest): { err: number; write?: (w: JuteWriter) => void } => {
    const path = req.path ?? '';
    const node = fake.znodes.get(path);
    switch (req.type) {
      case OpCode.create: {
        if (node !== undefined) return { err: -110 };
        fake.znodes.set(path, { data: Buffer.from(req.data ?? ''), version: 0 });
        zxid++;
        return { err: 0, write: (w) => w.string(path) };
      }
      case OpCode.getData:
        if (node === undefined) return { err: -101 };
        return {
          err: 0,
          write: (w) => writeStat(w.buffer(node.data), stat(node.version, node.data.length)),
        };
      case OpCode.exists:
        if (node === undefined) return { err: -101 };
        return { err: 0, write: (w) => writeStat(w, stat(node.version, node.data.length)) };
      case OpCode.setData: {
        if (node === undefined) return { err: -101 };
        if (req.version !== -1 && req.version !== node.version) return { err: -103 };
        node.data = Buffer.from(req.data ?? '');
        node.version++;
        zxid++;
        return { err: 0, write: (w) => writeStat(w, stat(node.version, node.data.length)) };
      }
      case OpCode.delete:
        if (node === undefined) return { err: -101 };
        fake.znodes.delete(path);
        return { err: 0 };
      case OpCode.getChildren: {
        if (node === undefined) return { err: -101 };
        const names = [...fake.znodes.keys()]
          .filter((p) => p.startsWith(`${path}/`) && !p.slice(path.length + 1).includes('/'))
          .map((p) => p.slice(path.length + 1));
        return {
          err: 0,
          write: (w) => {
            w.int(names.length);
            for (const n of names) w.string(n);
          },
        };
      }
      case OpCode.sync:
        return { err: 0, write: (w) => w.string(path) };
      default:
        return { err: -6 };
    }
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const frames = new FrameReader();
    let handshaken = false;
    let first = true;
    socket.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        const word = chunk.subarray(0, 4).toString('latin1');
        if (['srvr', 'mntr', 'ruok'].includes(word)) {
          socket.end(
            fake.mode === undefined
              ? 'This ZooKeeper instance is not currently serving requests\n'
              : `Zookeeper version: 3.8.0-fake\nLatency min/avg/max: 0/0.0/0\nMode: ${fake.mode}\nNode count: 5\n`,
          );
          return;
        }
      }
      for (const body of frames.push(chunk)) {
        if (!handshaken) {
          const req = decodeConnectRequest(body);
          fake.connects.push(req);
          handshaken = true;
          fake.sessions++;
          socket.write(
            encodeConnectResponse({
              protocolVersion: 0,
              timeoutMs: fake.refuseSessions ? 0 : req.timeoutMs,
              sessionId: BigInt(fake.sessions),
              password: Buffer.alloc(16),
              readOnly: false,
            }),
          );
          continue;
        }
        const r = new JuteReader(body);
        const xid = r.int();
        const type = r.int();
        if (xid === PING_XID) {
          if (fake.answerPings) socket.write(encodeReply({ xid, zxid, err: 0 }));
          continue;
        }
        const req = parseRequest(xid, type, r);
        fake.seen.push(req);
        if (type === OpCode.closeSession) {
          socket.end(encodeReply({ xid, zxid, err: 0 }));
          continue;
        }
        const a = answer(req);
        if (a === 'drop') {
          socket.destroy();
          return;
        }
        if (a === 'silent') continue;
        if (typeof a === 'object' && 'raw' in a) {
          socket.write(a.raw);
          continue;
        }
        const out = a === 'store' ? fromStore(req) : { err: a.err };
        socket.write(
          encodeReply({ xid, zxid, err: out.err }, out.err === 0 ? out.write : undefined),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.address = { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
  fake.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return fake;
}
