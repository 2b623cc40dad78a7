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

interface PairOptions {
  secretA?: string;
  secretB?: string;
  maxPendingConnections?: number;
  handshakeTimeoutMs?: number;
}

async function pair(
  handler: (from: string, body: unknown) => unknown = (_f, b) => ({ echo: b }),
  opts: PairOptions = {},
) {
  const [pa, pb] = [await freePort(), await freePort()];
  const peers = new Map([
    ['a', { host: '127.0.0.1', port: pa }],
    ['b', { host: '127.0.0.1', port: pb }],
  ]);
  const logs: string[] = [];
  const mk = (self: string, port: number, secret?: string) =>
    new Transport({
      self,
      ...(secret === undefined ? {} : { secret }),
      ...(opts.maxPendingConnections === undefined
        ? {}
        : { maxPendingConnections: opts.maxPendingConnections }),
      ...(opts.handshakeTimeoutMs === undefined
        ? {}
        : { handshakeTimeoutMs: opts.handshakeTimeoutMs }),
      peers,
      listen: { host: '127.0.0.1', port },
      handler,
      log: (_l, line) => logs.push(`${self}: ${line}`),
      connectTimeoutMs: 300,
      pingIntervalMs: 50,
      idleTimeoutMs: 300,
    });
  const a = mk('a', pa, opts.secretA);
  const b = mk('b', pb, opts.secretB);
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
    s.resume(); // discard what arrives, so that the end of the stream is seen
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

  it('fails only the request the handler rejects as a bad message, keeping the connection', async () => {
    const { a, b } = await pair((_f, body) => {
      if (body === 'bad') throw new BadMessage('bad shape');
      return { echo: body };
    });
    await waitFor(() => a.reachable('b'));
    const err = await a.request('b', 'bad', 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerError);
    expect((err as PeerError).kind).toBe('remote');
    expect(await a.request('b', 'good', 1000)).toEqual({ echo: 'good' });
    expect(a.stats().links.b?.connects).toBe(1);
    expect(b.garbageDisconnects).toBe(0);
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

describe('peer security and limits', () => {
  it('connects peers that share the cluster secret', async () => {
    const { a, b } = await pair(undefined, { secretA: 'same secret', secretB: 'same secret' });
    await waitFor(() => a.reachable('b') && b.reachable('a'));
    expect(await a.request('b', 1, 1000)).toEqual({ echo: 1 });
  });

  it('refuses a peer with another secret, or none, before serving anything', async () => {
    let served = 0;
    const handler = (_f: string, body: unknown) => {
      served++;
      return body;
    };
    const wrong = await pair(handler, { secretA: 'one', secretB: 'two' });
    const none = await pair(handler, { secretB: 'two' });
    await waitFor(() => wrong.b.stats().authFailures > 0 && none.b.stats().authFailures > 0);
    for (const { a } of [wrong, none]) {
      expect(a.reachable('b')).toBe(false);
      await expect(a.request('b', 1, 200)).rejects.toMatchObject({ kind: 'not-sent' });
    }
    // A forger that knows a member's id but not the secret: hello, then a request at once.
    const s = await rawClient(none.pb);
    s.write(
      Buffer.concat([
        encodeFrame({ t: 'hello', v: 1, from: 'a', to: 'b', nonce: '00'.repeat(16) }),
        encodeFrame({ t: 'req', id: 1, body: { t: 'gossip', hb: [] } }),
      ]),
    );
    await closed(s);
    expect(served).toBe(0);
  });

  it('closes an unauthenticated connection that sends more than a handshake frame', async () => {
    const { b, pb, logs } = await pair();
    const sockets = await Promise.all(Array.from({ length: 16 }, () => rawClient(pb)));
    for (const s of sockets) {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(32 * 1024 * 1024 - 1);
      s.write(Buffer.concat([header, Buffer.alloc(64 * 1024, 0x20)]));
    }
    await Promise.all(sockets.map(closed));
    expect(logs.filter((l) => /handshake/.test(l) && /exceeds/.test(l))).toHaveLength(16);
    expect(b.stats().pending).toBe(0);
  });

  it('bounds the unauthenticated connections, dropping the oldest, and keeps serving peers', async () => {
    const { a, b, pb } = await pair(undefined, {
      maxPendingConnections: 8,
      handshakeTimeoutMs: 60_000,
    });
    await waitFor(() => a.reachable('b'));
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 20; i++) sockets.push(await rawClient(pb));
    // (the handshake deadline is a minute here: only the bound can close them)
    await waitFor(() => sockets.filter((s) => s.destroyed).length >= 12);
    expect(b.stats().pending).toBeLessThanOrEqual(8);
    // the oldest were dropped, the newest are still waiting for their handshake
    expect(sockets.slice(0, 12).every((s) => s.destroyed)).toBe(true);
    expect(await a.request('b', 'still', 1000)).toEqual({ echo: 'still' });
  });

  it('keeps one inbound connection per peer: a newer handshake replaces the older', async () => {
    // Only b runs: its peer a is a raw socket here.
    const [pa, pb] = [await freePort(), await freePort()];
    const b = new Transport({
      self: 'b',
      peers: new Map([
        ['a', { host: '127.0.0.1', port: pa }],
        ['b', { host: '127.0.0.1', port: pb }],
      ]),
      listen: { host: '127.0.0.1', port: pb },
      handler: () => null,
      log: () => {},
    });
    cleanups.push(() => b.close());
    await b.listen();
    const first = await rawClient(pb);
    first.write(encodeFrame({ t: 'hello', v: 1, from: 'a', to: 'b' }));
    await waitFor(() => first.bytesRead > 0);
    const second = await rawClient(pb);
    second.write(encodeFrame({ t: 'hello', v: 1, from: 'a', to: 'b' }));
    await closed(first);
    expect(second.destroyed).toBe(false);
    expect(b.stats().authenticated).toBeLessThanOrEqual(1);
  });
});
