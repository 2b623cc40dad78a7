import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostPort } from '../../core/cluster.js';
import { Rng } from '../../core/random.js';
import { ProxyMesh } from './mesh.js';

/** A peer endpoint standing in for a node's peer port: records what it receives, keeps sockets. */
class Endpoint {
  received = Buffer.alloc(0);
  readonly sockets: Socket[] = [];
  ended = 0;
  constructor(readonly server: Server) {
    server.on('connection', (s) => {
      this.sockets.push(s);
      s.on('data', (c: Buffer) => {
        this.received = Buffer.concat([this.received, c]);
      });
      s.on('end', () => {
        this.ended += 1;
      });
      s.on('error', () => undefined);
    });
  }
  address(): HostPort {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('no address');
    return { host: '127.0.0.1', port: a.port };
  }
  static async start(): Promise<Endpoint> {
    const server = createServer({ allowHalfOpen: true });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new Endpoint(server);
  }
}

/** A connection from the "from" node to its proxy, recording what comes back. */
async function dial(
  to: HostPort,
): Promise<{ socket: Socket; got: () => Buffer; closed: () => boolean }> {
  const socket = connect(to);
  let got = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (c: Buffer) => {
    got = Buffer.concat([got, c]);
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  await once(socket, 'connect');
  return { socket, got: () => got, closed: () => closed };
}

async function until(cond: () => boolean, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

const SETTLE_MS = 150;

describe('ProxyMesh', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup() {
    const a = await Endpoint.start();
    const b = await Endpoint.start();
    const ends = { a, b };
    const mesh = await ProxyMesh.create({
      nodes: ['a', 'b'],
      host: '127.0.0.1',
      target: (n) => ends[n as 'a' | 'b'].address(),
      rng: new Rng(7),
    });
    cleanups.push(
      () => mesh.close(),
      () => new Promise<void>((r) => a.server.close(() => r())),
      () => new Promise<void>((r) => b.server.close(() => r())),
      () => {
        for (const s of [...a.sockets, ...b.sockets]) s.destroy();
      },
    );
    return { mesh, a, b };
  }

  it('gives each node a distinct proxy per peer', async () => {
    const { mesh } = await setup();
    const ab = mesh.peersFor('a').b;
    const ba = mesh.peersFor('b').a;
    expect(ab).toBeDefined();
    expect(ba).toBeDefined();
    expect(ab?.port).not.toBe(ba?.port);
    expect(Object.keys(mesh.peersFor('a'))).toEqual(['b']);
  });

  it('grudge[b] ∋ a drops bytes from a to b only, on a connection a opened', async () => {
    const { mesh, b } = await setup();
    const c = await dial(mesh.peersFor('a').b!);
    await until(() => b.sockets.length === 1);
    mesh.setGrudge({ b: ['a'] });
    c.socket.write('from-a');
    b.sockets[0]!.write('from-b');
    expect(await until(() => c.got().toString() === 'from-b')).toBe(true);
    await sleep(SETTLE_MS);
    expect(b.received.length).toBe(0);
    expect(c.closed()).toBe(false);
    expect(mesh.stats().lostBytes).toBe('from-a'.length);
  });

  it('the same grudge also cuts a→b on connections b opened (direction is about bytes, not who dialed)', async () => {
    const { mesh, a } = await setup();
    const c = await dial(mesh.peersFor('b').a!); // b dials a
    await until(() => a.sockets.length === 1);
    mesh.setGrudge({ b: ['a'] });
    c.socket.write('from-b'); // b → a flows
    a.sockets[0]!.write('from-a'); // a → b is dropped
    expect(await until(() => a.received.toString() === 'from-b')).toBe(true);
    await sleep(SETTLE_MS);
    expect(c.got().length).toBe(0);
  });

  it('accepts new connections during a partition and keeps them silent', async () => {
    const { mesh, b } = await setup();
    mesh.setGrudge({ a: ['b'], b: ['a'] });
    const c = await dial(mesh.peersFor('a').b!);
    c.socket.write('hello');
    await sleep(SETTLE_MS);
    expect(b.received.length).toBe(0);
    expect(c.closed()).toBe(false);
  });

  it('resets connections that lost bytes when their direction opens, and spares the others', async () => {
    const { mesh, b } = await setup();
    const lossy = await dial(mesh.peersFor('a').b!);
    const quiet = await dial(mesh.peersFor('a').b!);
    await until(() => b.sockets.length === 2);
    mesh.setGrudge({ b: ['a'] });
    lossy.socket.write('lost');
    await sleep(SETTLE_MS);
    mesh.setGrudge({});
    expect(await until(() => lossy.closed())).toBe(true);
    expect(quiet.closed()).toBe(false);
    quiet.socket.write('after-heal');
    expect(await until(() => b.received.toString() === 'after-heal')).toBe(true);
  });

  it('swallows a FIN sent into a cut, and resets that connection at heal', async () => {
    const { mesh, b } = await setup();
    const c = await dial(mesh.peersFor('a').b!);
    await until(() => b.sockets.length === 1);
    mesh.setGrudge({ b: ['a'] });
    c.socket.end();
    await sleep(SETTLE_MS);
    expect(b.ended).toBe(0);
    mesh.setGrudge({});
    expect(await until(() => b.sockets[0]!.destroyed)).toBe(true);
  });

  it('propagates a clean close when nothing is cut', async () => {
    const { mesh, b } = await setup();
    const c = await dial(mesh.peersFor('a').b!);
    c.socket.end('bye');
    expect(await until(() => b.ended === 1)).toBe(true);
    expect(b.received.toString()).toBe('bye');
  });

  it('a FIN waits behind delayed bytes instead of cutting them off', async () => {
    const { mesh, b } = await setup();
    mesh.setLink('a', { delayMs: 100 });
    const c = await dial(mesh.peersFor('a').b!);
    await until(() => b.sockets.length === 1);
    b.sockets[0]!.end(); // b is done first, so a's end closes the client socket completely
    c.socket.end('payload');
    expect(await until(() => b.ended === 1)).toBe(true);
    expect(b.received.toString()).toBe('payload');
  });

  it('delays traffic leaving a node and keeps its order under jitter', async () => {
    const { mesh, b } = await setup();
    mesh.setLink('a', { delayMs: 5, jitterMs: 40 });
    const c = await dial(mesh.peersFor('a').b!);
    const parts: string[] = [];
    for (let i = 0; i < 200; i++) parts.push(`${i},`);
    for (const p of parts) {
      c.socket.write(p);
      await sleep(0);
    }
    const want = parts.join('');
    expect(await until(() => b.received.length >= want.length, 10_000)).toBe(true);
    expect(b.received.toString()).toBe(want);
  });

  it('refuses grudges and link faults naming unknown nodes or bad values', async () => {
    const { mesh } = await setup();
    expect(() => mesh.setGrudge({ c: ['a'] })).toThrow(/unknown node "c"/);
    expect(() => mesh.setGrudge({ a: ['zz'] })).toThrow(/grudge\[a\].*"zz"/);
    expect(() => mesh.setLink('a', { loss: 1.5 })).toThrow(/loss/);
    expect(() => mesh.setLink('a', { delayMs: -1 })).toThrow(/delayMs/);
    expect(() => mesh.setLink('a', { rateKbit: 1000 })).toThrow(
      /rateKbit.*not supported by the local backend/,
    );
    mesh.setGrudge({ a: ['a', 'b'] });
    expect(mesh.grudge()).toEqual({ a: ['b'] });
  });
});
