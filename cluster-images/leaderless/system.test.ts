import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../backends/local/local-backend.js';
import type { Client, Op, QuorumOp } from '../../core/client.js';
import { fixedClientContext, OpTimeout } from '../../core/client.js';
import type { Cluster } from '../../core/cluster.js';
import { HttpStatusError } from '../../core/http-json.js';
import {
  leaderless,
  leaderlessBinary,
  leaderlessCounterClient,
  leaderlessErrors,
  leaderlessEventualErrors,
  leaderlessKvClient,
  leaderlessMembership,
  leaderlessRecipe,
  leaderlessRegisterClient,
  leaderlessReplicaReader,
  leaderlessSetClient,
} from './system.js';

describe('leaderless recipe', () => {
  it('launches node.js on the bundle with the flags, peers and settings', () => {
    const launch = leaderlessRecipe('/x/leaderless.js').launch({
      node: 'n1',
      listen: { host: '127.0.0.1', port: 1001 },
      peerListen: { host: '127.0.0.1', port: 2001 },
      peers: { n2: { host: '127.0.0.1', port: 3002 }, n3: { host: '::1', port: 3003 } },
      pool: { n2: { host: '127.0.0.1', port: 3002 }, n3: { host: '::1', port: 3003 } },
      joining: false,
      dataDir: '/data/n1',
      settings: { r: '1', fsync: 'never' },
    });
    expect(launch.command).toBe(process.execPath);
    // A secret of the definition's own is given in the environment unless the settings name one
    // (leaderlessSystem() makes one per definition), never on the command line.
    expect(launch.env.LEADERLESS_CLUSTER_SECRET).toMatch(/^[0-9a-f]{32}$/);
    expect(launch.args).not.toContain('--cluster-secret');
    expect(launch.args).toEqual([
      '/x/leaderless.js',
      '--id',
      'n1',
      '--listen',
      '127.0.0.1:1001',
      '--peer-listen',
      '127.0.0.1:2001',
      '--peers',
      'n2=127.0.0.1:3002,n3=[::1]:3003,n1=127.0.0.1:2001',
      '--data-dir',
      '/data/n1',
      '--r',
      '1',
      '--fsync',
      'never',
    ]);
    const given = leaderlessRecipe('/x/leaderless.js').launch({
      node: 'n1',
      listen: { host: '127.0.0.1', port: 1001 },
      peerListen: { host: '127.0.0.1', port: 2001 },
      peers: {},
      pool: {},
      joining: false,
      dataDir: '/data/n1',
      settings: { 'cluster-secret': 'mine' },
    });
    expect(given.args.filter((a) => a === '--cluster-secret')).toHaveLength(1);
    expect(given.args.at(-1)).toBe('mine');
  });

  it('passes the pool and --join on to a node added at runtime', () => {
    const launch = leaderlessRecipe('/x/leaderless.js').launch({
      node: 'n4',
      listen: { host: '127.0.0.1', port: 1004 },
      peerListen: { host: '127.0.0.1', port: 2004 },
      peers: { n1: { host: '127.0.0.1', port: 3001 } },
      pool: { n1: { host: '127.0.0.1', port: 3001 }, n5: { host: '127.0.0.1', port: 3005 } },
      joining: true,
      dataDir: '/data/n4',
      settings: {},
    });
    const arg = (flag: string) => launch.args[launch.args.indexOf(flag) + 1];
    expect(arg('--peers')).toBe('n1=127.0.0.1:3001,n4=127.0.0.1:2004');
    expect(arg('--pool')).toBe('n1=127.0.0.1:3001,n4=127.0.0.1:2004,n5=127.0.0.1:3005');
    expect(arg('--join')).toBe('on');
    // an initial node of a run with a pool gets the pool but no --join
    const initial = leaderlessRecipe('/x/leaderless.js').launch({
      node: 'n1',
      listen: { host: '127.0.0.1', port: 1001 },
      peerListen: { host: '127.0.0.1', port: 2001 },
      peers: {},
      pool: { n5: { host: '127.0.0.1', port: 3005 } },
      joining: false,
      dataDir: '/data/n1',
      settings: {},
    });
    expect(initial.args).toContain('--pool');
    expect(initial.args).not.toContain('--join');
  });

  it('keeps at least N members', () => {
    expect(leaderlessMembership.minMembers?.({}, 3)).toBe(3);
    expect(leaderlessMembership.minMembers?.({ n: '2' }, 5)).toBe(2);
  });
});

describe('leaderless error classification', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  it('4xx and refused connections are definite; 5xx, resets, timeouts and the unknown are not', () => {
    expect(
      leaderlessErrors.classify(new HttpStatusError(409, { error: 'precondition' })).type,
    ).toBe('fail');
    expect(leaderlessErrors.classify(new HttpStatusError(412, {})).type).toBe('fail');
    expect(leaderlessErrors.classify(new HttpStatusError(400, {})).type).toBe('fail');
    expect(leaderlessErrors.classify(err('ECONNREFUSED')).type).toBe('fail');
    expect(leaderlessErrors.classify(new HttpStatusError(503, {})).type).toBe('info');
    expect(
      leaderlessErrors.classify(
        new HttpStatusError(503, { error: 'timed out', outcome: 'unknown' }),
      ).type,
    ).toBe('info');
    // Refused at the node's connection or body limits, before anything was read: not applied.
    expect(
      leaderlessErrors.classify(new HttpStatusError(503, { error: 'busy', outcome: 'failed' })),
    ).toEqual({
      type: 'fail',
      error: 'refused: node at its limits: http-503: HTTP 503: busy',
      unavailable: true,
    });
    expect(leaderlessErrors.classify(new HttpStatusError(500, {})).type).toBe('info');
    expect(leaderlessErrors.classify(err('ECONNRESET')).type).toBe('info');
    expect(leaderlessErrors.classify(new Error('anything else'))).toEqual({
      type: 'info',
      error: 'anything else',
    });
    expect(leaderlessErrors.classify(new OpTimeout(100))).toEqual({
      type: 'info',
      error: 'timeout',
    });
  });

  it('412 and refused connections are the store being unavailable; 409 and 400 are answers', () => {
    const c = (e: unknown) => leaderlessErrors.classify(e);
    expect(c(new HttpStatusError(412, {}))).toMatchObject({ type: 'fail', unavailable: true });
    expect(c(err('ECONNREFUSED'))).toMatchObject({ type: 'fail', unavailable: true });
    expect(c(new HttpStatusError(409, {}))).not.toHaveProperty('unavailable');
    expect(c(new HttpStatusError(400, {}))).not.toHaveProperty('unavailable');
  });

  it('an eventual read that failed is unavailable unless its cause was an answer', async () => {
    const server = http.createServer((req, res) => {
      const status = Number(/^\/kv\/(\d+)/.exec(req.url ?? '')?.[1] ?? 500);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `status ${status}` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const kv = leaderlessKvClient.open(
      'n1',
      { host: '127.0.0.1', port },
      fixedClientContext({ n1: { host: '127.0.0.1', port } }),
    );
    const sig = new AbortController().signal;
    const readOf = (key: string) =>
      kv.invoke({ f: 'read', key }, sig).then(
        () => undefined,
        (e: unknown) => leaderlessEventualErrors.classify(e),
      );
    try {
      expect(await readOf('412')).toMatchObject({ type: 'fail', unavailable: true });
      expect(await readOf('503')).toMatchObject({ type: 'fail', unavailable: true });
      expect(await readOf('400')).toMatchObject({ type: 'fail' });
      expect(await readOf('400')).not.toHaveProperty('unavailable');
    } finally {
      await kv.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
    // Nothing listens on a port just closed: refused.
    const refused = leaderlessKvClient.open(
      'n1',
      { host: '127.0.0.1', port },
      fixedClientContext({ n1: { host: '127.0.0.1', port } }),
    );
    const e = await refused.invoke({ f: 'read', key: 'k' }, sig).catch((x: unknown) => x);
    expect(leaderlessEventualErrors.classify(e)).toMatchObject({ type: 'fail', unavailable: true });
    await refused.close();
  });
});

describe('leaderless replica reader', () => {
  it("names each key's owners, and a key this node holds only a hint for", async () => {
    const lines = [
      { type: 'set', key: 'a', owners: ['n1', 'n2'], view: [1], raw: {} },
      { type: 'set', key: 'b', owners: ['n2', 'n3'], hintFor: 'n2', view: [2], raw: {} },
      // A hint for a key the node also stores: the stored record stands.
      { type: 'set', key: 'a', owners: ['n1', 'n2'], hintFor: 'n2', view: [9], raw: {} },
      { type: 'counter', key: 'c', owners: ['n1'], view: 4, raw: {} },
      // A store older than `owners`: the key's state alone.
      { type: 'set', key: 'd', view: [], raw: {} },
    ];
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const address = { host: '127.0.0.1', port };
    const reader = leaderlessReplicaReader('set');
    expect(reader.keyOwners).toBe(true);
    const client = reader.open('n1', address, fixedClientContext({ n1: address }));
    try {
      const r = await client.invoke(
        { f: 'replica-read', value: { node: 'n1', round: 2 } },
        new AbortController().signal,
      );
      expect(r.value).toEqual({
        node: 'n1',
        round: 2,
        keys: {
          a: { elements: [1], owners: ['n1', 'n2'] },
          b: { elements: [2], owners: ['n2', 'n3'] },
          d: { elements: [] },
        },
      });
    } finally {
      await client.close();
      server.close();
    }
  });
});

describe('leaderless lin client', () => {
  let server: http.Server;
  let port = 0;
  const store = new Map<string, unknown>();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const m = /^\/lin\/([^/]+)(\/cas)?$/.exec(req.url ?? '');
        const key = decodeURIComponent(m?.[1] ?? '');
        const reply = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        if (key === 'down') return reply(503, { error: 'no quorum', outcome: 'unknown' });
        if (req.method === 'GET') return reply(200, { value: store.get(key) ?? null });
        const b = JSON.parse(body) as { value?: unknown; from?: unknown; to?: unknown };
        if (m?.[2]) {
          if (JSON.stringify(store.get(key) ?? null) !== JSON.stringify(b.from)) {
            return reply(409, { error: 'precondition failed', outcome: 'failed' });
          }
          store.set(key, b.to);
          return reply(200, {});
        }
        store.set(key, b.value);
        return reply(200, {});
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reads, writes and cas over keep-alive HTTP; errors carry their status', async () => {
    const c = leaderlessRegisterClient.open(
      'n1',
      { host: '127.0.0.1', port },
      fixedClientContext({ n1: { host: '127.0.0.1', port } }),
    );
    const sig = new AbortController().signal;
    expect(await c.invoke({ f: 'read', key: 'a' }, sig)).toEqual({ value: null });
    await c.invoke({ f: 'write', key: 'a', value: 3 }, sig);
    expect(await c.invoke({ f: 'read', key: 'a' }, sig)).toEqual({ value: 3 });
    await c.invoke({ f: 'cas', key: 'a', value: [3, 4] }, sig);
    const e409 = await c
      .invoke({ f: 'cas', key: 'a', value: [3, 5] }, sig)
      .catch((e: unknown) => e);
    expect(leaderlessErrors.classify(e409)).toMatchObject({ type: 'fail' });
    const e503 = await c.invoke({ f: 'read', key: 'down' }, sig).catch((e: unknown) => e);
    expect(leaderlessErrors.classify(e503)).toMatchObject({ type: 'info' });
    expect(await c.invoke({ f: 'read', key: 'a' }, sig)).toEqual({ value: 4 });
    await c.close();
  });
});

/** One real store node (n = 1, memory storage) on the local backend, for the eventual clients. */
async function oneNode(settings: Record<string, string>, dir: string): Promise<Cluster> {
  return createLocalBackend({ registryDir: join(dir, 'registry') }).createCluster({
    runId: `fl-clients-${process.pid}-${Math.random().toString(36).slice(2)}`,
    recipe: leaderlessRecipe(leaderlessBinary()),
    nodes: ['n1'],
    settings: { n: '1', storage: 'memory', ...settings },
    logsDir: join(dir, 'logs'),
    startTimeoutMs: 30_000,
  });
}

describe('leaderless eventual clients against a running store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-clients-'));
  const clusters: Cluster[] = [];
  const clients: Client<Op>[] = [];
  const sig = new AbortController().signal;
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(clusters.map((c) => c.teardown()));
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (c: Cluster, factory: typeof leaderlessKvClient) => {
    const client = factory.open(
      'n1',
      c.clientAddress('n1'),
      fixedClientContext({ n1: c.clientAddress('n1') }),
    );
    clients.push(client);
    return client;
  };
  const classify = async (p: Promise<unknown>) =>
    leaderlessEventualErrors.classify(
      await p.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );

  it('lww: kv, set and counter ops, and replica reads with the lww timestamp', async () => {
    const c = await oneNode({ conflict: 'lww' }, dir);
    clusters.push(c);
    const kv = open(c, leaderlessKvClient);
    const set = open(c, leaderlessSetClient);
    const counter = open(c, leaderlessCounterClient);
    expect(await kv.invoke({ f: 'read', key: 'e1' }, sig)).toEqual({ value: [] });
    const before = Date.now();
    await kv.invoke({ f: 'write', key: 'e1', value: 1 }, sig);
    const written = await kv.invoke({ f: 'write', key: 'e1', value: 2, w: 1 } as QuorumOp, sig);
    const after = Date.now();
    expect(await kv.invoke({ f: 'read', key: 'e1', r: 1 } as QuorumOp, sig)).toEqual({
      value: [2],
    });
    await set.invoke({ f: 'add', key: 's1', value: 1 }, sig);
    await set.invoke({ f: 'add', key: 's1', value: 2 }, sig);
    await set.invoke({ f: 'remove', key: 's1', value: 1 }, sig);
    expect(await set.invoke({ f: 'read', key: 's1' }, sig)).toEqual({ value: [2] });
    await counter.invoke({ f: 'add', key: 'c1', value: 5 }, sig);
    await counter.invoke({ f: 'add', key: 'c1', value: -2 }, sig);
    expect(await counter.invoke({ f: 'read', key: 'c1' }, sig)).toEqual({ value: 3 });

    const replica = (type: 'kv' | 'set' | 'counter') =>
      open(c, leaderlessReplicaReader(type)).invoke(
        { f: 'replica-read', value: { node: 'n1', round: 1 } },
        sig,
      );
    const kvState = (await replica('kv')).value as {
      node: string;
      round: number;
      keys: Record<string, { values: unknown[]; ts: number[] }>;
    };
    expect(kvState).toMatchObject({ node: 'n1', round: 1, keys: { e1: { values: [2] } } });
    expect(Object.keys(kvState.keys)).toEqual(['e1']); // only kv records
    const [ts] = kvState.keys.e1!.ts;
    expect(ts).toBeGreaterThanOrEqual(before - 1000);
    expect(ts).toBeLessThanOrEqual(after + 1000);
    // the write's completion carries the store's timestamp for it: the one the replica holds
    expect(written.extra?.ts).toBe(ts);
    expect((await replica('set')).value).toEqual({
      node: 'n1',
      round: 1,
      keys: { s1: { elements: [2], owners: ['n1'] } },
    });
    expect((await replica('counter')).value).toEqual({
      node: 'n1',
      round: 1,
      keys: { c1: { value: 3, owners: ['n1'] } },
    });

    // A quorum larger than N is refused (400): certainly not applied, for writes and reads.
    expect(
      await classify(kv.invoke({ f: 'write', key: 'e1', value: 3, w: 2 } as QuorumOp, sig)),
    ).toMatchObject({ type: 'fail', error: expect.stringMatching(/400/) });
    expect(
      await classify(kv.invoke({ f: 'read', key: 'e1', r: 2 } as QuorumOp, sig)),
    ).toMatchObject({ type: 'fail' });
    expect(await kv.invoke({ f: 'read', key: 'e1' }, sig)).toEqual({ value: [2] });
    expect(await classify(set.invoke({ f: 'cas', key: 's1' }, sig))).toMatchObject({
      type: 'fail',
      error: expect.stringMatching(/unknown op/),
    });
  }, 60_000);

  it('siblings: writes without a read stay siblings; a write after a read supersedes what it saw', async () => {
    const c = await oneNode({ conflict: 'siblings' }, dir);
    clusters.push(c);
    const kv = open(c, leaderlessKvClient);
    const other = open(c, leaderlessKvClient);
    await kv.invoke({ f: 'write', key: 'e1', value: 10 }, sig);
    await other.invoke({ f: 'write', key: 'e1', value: 11 }, sig);
    const read = (await kv.invoke({ f: 'read', key: 'e1' }, sig)).value as number[];
    expect([...read].sort()).toEqual([10, 11]);
    const replica = leaderlessReplicaReader('kv');
    const state = async () => {
      const r = await open(c, replica).invoke(
        { f: 'replica-read', value: { node: 'n1', round: 7 } },
        sig,
      );
      return (r.value as { keys: Record<string, { values: number[]; ts?: unknown }> }).keys.e1!;
    };
    expect([...(await state()).values].sort()).toEqual([10, 11]);
    expect((await state()).ts).toBeUndefined();
    // `other` has not read the key: its write adds a sibling. `kv` read both: its write replaces
    // exactly those, leaving the concurrent one it did not see.
    await other.invoke({ f: 'write', key: 'e1', value: 12 }, sig);
    await kv.invoke({ f: 'write', key: 'e1', value: 13 }, sig);
    expect([...(await state()).values].sort()).toEqual([12, 13]);
  }, 60_000);

  it('the system offers every client the workloads ask for', () => {
    expect(Object.keys(leaderless.clients).sort()).toEqual(
      ['counter', 'kv', 'register', 'replica-counter', 'replica-kv', 'replica-set', 'set'].sort(),
    );
  });
});

describe('leaderless eventual clients: classification by the README status table', () => {
  let server: http.Server;
  let port = 0;
  let status = 503;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'stub', outcome: status >= 500 ? 'unknown' : 'failed' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const outcome = async (factory: typeof leaderlessKvClient, op: Op, code: number) => {
    status = code;
    const c = factory.open(
      'n1',
      { host: '127.0.0.1', port },
      fixedClientContext({ n1: { host: '127.0.0.1', port } }),
    );
    try {
      const e = await c.invoke(op, new AbortController().signal).then(
        () => undefined,
        (x: unknown) => x,
      );
      return factory.errors.classify(e).type;
    } finally {
      await c.close();
    }
  };

  it('writes: 4xx fail, 5xx info; reads: any error fails (a read changes nothing)', async () => {
    for (const [factory, write] of [
      [leaderlessKvClient, { f: 'write', key: 'k', value: 1 }],
      [leaderlessSetClient, { f: 'add', key: 'k', value: 1 }],
      [leaderlessSetClient, { f: 'remove', key: 'k', value: 1 }],
      [leaderlessCounterClient, { f: 'add', key: 'k', value: 1 }],
    ] as const) {
      expect(await outcome(factory, write, 503)).toBe('info');
      expect(await outcome(factory, write, 500)).toBe('info');
      expect(await outcome(factory, write, 412)).toBe('fail');
      expect(await outcome(factory, write, 400)).toBe('fail');
      expect(await outcome(factory, { f: 'read', key: 'k' }, 503)).toBe('fail');
    }
    expect(
      await outcome(
        leaderlessReplicaReader('set'),
        { f: 'replica-read', value: { node: 'n1', round: 1 } },
        503,
      ),
    ).toBe('fail');
  });
});
