import net from 'node:net';
import type { HostPort } from '../../../core/cluster.js';

/**
 * What the fake server answers to one command: a RESP value (a JS string is a bulk string,
 * `{simple}` a status line, `{error}` an error reply, a number an integer, null a null bulk, an
 * array an array), or `'drop'` (the socket destroyed, nothing answered) or `'hang'` (no answer).
 */
export type Reply =
  | string
  | number
  | null
  | { simple: string }
  | { error: string }
  | Reply[]
  | 'drop'
  | 'hang';

export interface Seen {
  connection: number;
  command: string[];
}

export interface FakeRedis {
  address: HostPort;
  /** Every command so far, with the number of the connection it came on. */
  seen: Seen[];
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

function encode(r: Exclude<Reply, 'drop' | 'hang'>): string {
  if (r === null) return '$-1\r\n';
  if (typeof r === 'number') return `:${r}\r\n`;
  if (typeof r === 'string') return `$${Buffer.byteLength(r)}\r\n${r}\r\n`;
  if (Array.isArray(r)) return `*${r.length}\r\n${r.map((x) => encode(x as never)).join('')}`;
  if ('simple' in r) return `+${r.simple}\r\n`;
  return `-${r.error}\r\n`;
}

/** Reads whole commands (arrays of bulk strings, as clients send them) off the front of `buf`. */
function takeCommands(buf: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = [];
  let at = 0;
  const line = (from: number) => {
    const end = buf.indexOf('\r\n', from);
    return end < 0 ? undefined : { text: buf.toString('utf8', from, end), next: end + 2 };
  };
  for (;;) {
    const head = line(at);
    if (head === undefined || !head.text.startsWith('*')) break;
    const n = Number(head.text.slice(1));
    let p = head.next;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = line(p);
      if (len === undefined) return { commands, rest: buf.subarray(at) };
      const size = Number(len.text.slice(1));
      if (buf.length < len.next + size + 2) return { commands, rest: buf.subarray(at) };
      args.push(buf.toString('utf8', len.next, len.next + size));
      p = len.next + size + 2;
    }
    commands.push(args);
    at = p;
  }
  return { commands, rest: buf.subarray(at) };
}

/**
 * A RESP server on `host` (any loopback address) answering as `answer` says; `port` 0 picks one.
 * Commands on one connection are answered in order, as redis does.
 */
export async function fakeRedis(
  host: string,
  port: number,
  answer: (command: string[]) => Reply,
): Promise<FakeRedis> {
  const seen: Seen[] = [];
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const connection = ++accepted;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let hung = false;
    socket.on('data', (chunk: Buffer) => {
      if (hung) return;
      const taken = takeCommands(Buffer.concat([buf, chunk]));
      buf = Buffer.from(taken.rest);
      for (const command of taken.commands) {
        seen.push({ connection, command });
        const r = answer(command);
        if (r === 'drop') {
          socket.destroy();
          return;
        }
        if (r === 'hang') {
          hung = true;
          return;
        }
        socket.write(encode(r));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = server.address() as net.AddressInfo;
  return {
    address: { host, port: bound.port },
    seen,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on `host` that refuses connections: bound, then closed again. */
export async function closedPort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
