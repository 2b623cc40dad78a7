import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from './frame.js';
import { BadMessage, PeerError, Transport } from './transport.js';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pair(handler: (from: string, body: unknown) => unknown = (_f, b) => ({ echo: b })) {
  const [pa, pb] = [await freePort(), await freePort()];
  const peers = new Map([
    ['a', { host: '127.0.0.1', port: pa }],
    ['b', { host: '127.0.0.1', port: pb }],
  ]);
  const logs: string[] = [];
  const mk = (self: string, port: number) =>
    new Transport({
      self,
      peers,
      listen: { host: '127.0.0.1', port },
      handler,
      log: (_l, line) => logs.push(`${self}: ${line}`),
      connectTimeoutMs: 300,
      pingIntervalMs: 50,
      idleTimeoutMs: 300,
    });
  const a = mk('a', pa);
  const b = mk('b', pb);
  cleanups.push(
    () => a.close(),
    () => b.close(),
  );
  await a.start();
  await b.start();
  return { a, b, pa, pb, logs };
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function rawClient(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', () => {});
    cleanups.push(() => void s.destroy());
  });
}

const closed = (s: net.Socket) =>
  new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

describe('Transport', () => {
  it('carries requests and replies both ways, identifying the sender by its hello', async () => {
    const seen: string[] = [];
    const { a, b } = await pair((from, body) => {
      seen.push(from);
      return { echo: body };
    });
    await waitFor(() => a.reachable('b') && b.reachable('a'));
    expect(await a.request('b', { x: 1 }, 1000)).toEqual({ echo: { x: 1 } });
    expect(await b.request('a', [1, 2], 1000)).toEqual({ echo: [1, 2] });
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('reports a handler error as a remote error', async () => {
    const { a } = await pair(() => {
      throw new Error('nope');
    });
    await waitFor(() => a.reachable('b'));
    await expect(a.request('b', {}, 1000)).rejects.toMatchObject({ kind: 'remote' });
  });

  it('disconnects a peer that sends garbage and keeps serving others', async () => {
    const { a, b, pb } = await pair();
    const s = await rawClient(pb);
    s.write(Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5]));
    await closed(s);
    expect(b.garbageDisconnects).toBe(1);
    await waitFor(() => a.reachable('b'));
    expect(await a.request('b', 'still', 1000)).toEqual({ echo: 'still' });
  });

  it('disconnects a hello from an unknown node or addressed to another node', async () => {
    const { pb, b } = await pair();
    const s1 = await rawClient(pb);
    s1.write(encodeFrame({ t: 'hello', v: 1, from: 'intruder', to: 'b' }));
    await closed(s1);
    const s2 = await rawClient(pb);
    s2.write(encodeFrame({ t: 'hello', v: 1, from: 'a', to: 'c' }));
    await closed(s2);
    const s3 = await rawClient(pb);
    s3.write(encodeFrame({ t: 'req', id: 1, body: {} }));
    await closed(s3);
    expect(b.garbageDisconnects).toBe(3);
  });

  it('disconnects a peer whose request the handler rejects as a bad message', async () => {
    const { a } = await pair(() => {
      throw new BadMessage('bad shape');
    });
    await waitFor(() => a.reachable('b'));
    const err = await a.request('b', {}, 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerError);
    expect((err as PeerError).kind).toBe('timeout');
  });

  it('times out (never hangs) against a peer that accepts connections and stays silent', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => silent.close(() => r()));
    });
    const t = new Transport({
      self: 'a',
      peers: new Map([['b', { host: '127.0.0.1', port }]]),
      listen: { host: '127.0.0.1', port: await freePort() },
      handler: () => null,
      log: () => {},
      connectTimeoutMs: 100,
    });
    cleanups.push(() => t.close());
    await t.start();
    const err = await t.request('b', {}, 300).catch((e: unknown) => e);
    expect((err as PeerError).kind).toBe('not-sent');
    expect(t.reachable('b')).toBe(false);
  });

  it('times out (never hangs) when a proxy starts blackholing, and recovers after the heal', async () => {
    const { a, pb } = await pair();
    // a reaches b through a proxy that can drop everything in both directions.
    let blackhole = false;
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((inbound) => {
      const outbound = net.connect(pb, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.on('data', (d) => blackhole || outbound.write(d));
      outbound.on('data', (d) => blackhole || inbound.write(d));
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => proxy.close(() => r()));
    });
    const viaProxy = new Transport({
      self: 'a',
      peers: new Map([
        ['b', { host: '127.0.0.1', port: (proxy.address() as net.AddressInfo).port }],
      ]),
      listen: { host: '127.0.0.1', port: await freePort() },
      handler: () => null,
      log: () => {},
      connectTimeoutMs: 200,
      pingIntervalMs: 50,
      idleTimeoutMs: 300,
    });
    cleanups.push(() => viaProxy.close());
    await viaProxy.start();
    await waitFor(() => viaProxy.reachable('b'));
    expect(await viaProxy.request('b', 1, 500)).toEqual({ echo: 1 });
    blackhole = true;
    const err = await viaProxy.request('b', 2, 200).catch((e: unknown) => e);
    expect((err as PeerError).kind).toBe('timeout');
    await waitFor(() => !viaProxy.reachable('b'));
    blackhole = false;
    await waitFor(() => viaProxy.reachable('b'));
    expect(await viaProxy.request('b', 3, 500)).toEqual({ echo: 3 });
    expect(a).toBeDefined();
  });

  it('reconnects after the peer restarts', async () => {
    const { a, b, pb } = await pair();
    await waitFor(() => a.reachable('b'));
    await b.close();
    await waitFor(() => !a.reachable('b'));
    const b2 = new Transport({
      self: 'b',
      peers: new Map([['a', { host: '127.0.0.1', port: 1 }]]),
      listen: { host: '127.0.0.1', port: pb },
      handler: () => 'reborn',
      log: () => {},
    });
    cleanups.push(() => b2.close());
    await b2.start();
    await waitFor(() => a.reachable('b'));
    expect(await a.request('b', {}, 1000)).toBe('reborn');
  });
});
