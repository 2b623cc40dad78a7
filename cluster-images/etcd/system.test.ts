import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Classified, Client, Op } from '../../core/client.js';
import { fixedClientContext } from '../../core/client.js';
import type { HostPort } from '../../core/cluster.js';
import { etcd, etcdErrors, etcdRegisterClient, etcdSystem } from './system.js';
import { type Answer, type FakeGateway, fakeGateway, type Seen } from './test/fake-gateway.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A small HTTP server answering like etcd 3.4's v3 gateway, as the test tells it to. */
let gateway: FakeGateway;
let address: HostPort;
let answer: (path: string, body: Record<string, unknown>) => Answer;
let seen: Seen[];

beforeAll(async () => {
  gateway = await fakeGateway((path, body) => answer(path, body));
  address = gateway.address;
  seen = gateway.seen;
});
afterAll(() => gateway.close());
afterEach(() => {
  seen.length = 0;
});

const header = { cluster_id: '11856560467991768286', member_id: '1', revision: '9007199254740993' };
const grpcError = (status: number, error: string, code: number): Answer => ({
  status,
  body: { error, message: error, code },
});

/** Runs one op through the register client and classifies it as the interpreter would. */
async function run(
  op: Op,
  reads: 'linearizable' | 'serializable' = 'linearizable',
  at: HostPort = address,
): Promise<{ ok: true; value: unknown } | ({ ok: false } & Classified)> {
  const factory = etcdRegisterClient(reads);
  const client: Client = factory.open('n1', at, fixedClientContext({ n1: at }));
  try {
    const r = await client.invoke(op, AbortSignal.timeout(5000));
    return { ok: true, value: r.value };
  } catch (e) {
    return { ok: false, ...factory.errors.classify(e) };
  } finally {
    await client.close();
  }
}

describe('etcd register client: requests', () => {
  it('reads the key through /v3/kv/range: the JSON value, null when absent; serializable when asked', async () => {
    answer = (_p, body) =>
      body.key === b64('r0')
        ? { status: 200, body: { header, kvs: [{ key: b64('r0'), value: b64('17') }], count: '1' } }
        : { status: 200, body: { header } };
    expect(await run({ f: 'read', key: 'r0' })).toEqual({ ok: true, value: 17 });
    expect(await run({ f: 'read', key: 'r1' })).toEqual({ ok: true, value: null });
    expect(seen[0]).toEqual({ path: '/v3/kv/range', body: { key: b64('r0') } });
    await run({ f: 'read', key: 'r0' }, 'serializable');
    expect(seen[2]?.body).toEqual({ key: b64('r0'), serializable: true });
  });

  it('writes through /v3/kv/put, base64 key and JSON value', async () => {
    answer = () => ({ status: 200, body: { header } });
    expect(await run({ f: 'write', key: 'r0', value: 5 })).toEqual({ ok: true, value: undefined });
    expect(seen).toEqual([{ path: '/v3/kv/put', body: { key: b64('r0'), value: b64('5') } }]);
  });

  it('cas is one txn comparing the value (from null: the key absent); succeeded false is a definite fail', async () => {
    answer = () => ({ status: 200, body: { header, succeeded: true, responses: [] } });
    expect((await run({ f: 'cas', key: 'r0', value: [1, 2] })).ok).toBe(true);
    expect(seen[0]).toEqual({
      path: '/v3/kv/txn',
      body: {
        compare: [{ key: b64('r0'), target: 'VALUE', result: 'EQUAL', value: b64('1') }],
        success: [{ request_put: { key: b64('r0'), value: b64('2') } }],
      },
    });
    await run({ f: 'cas', key: 'r0', value: [null, 3] });
    expect(seen[1]?.body.compare).toEqual([
      { key: b64('r0'), target: 'CREATE', result: 'EQUAL', create_revision: '0' },
    ]);
    // proto3 JSON leaves a false `succeeded` out.
    answer = () => ({ status: 200, body: { header } });
    expect(await run({ f: 'cas', key: 'r0', value: [1, 2] })).toMatchObject({
      ok: false,
      type: 'fail',
      error: expect.stringMatching(/^cas precondition failed/),
    });
    expect(seen).toHaveLength(3); // one request per op, never retried
  });
});

describe('etcd register client: classification (the table in system.ts)', () => {
  const write: Op = { f: 'write', key: 'r0', value: 1 };
  const cas: Op = { f: 'cas', key: 'r0', value: [1, 2] };
  const read: Op = { f: 'read', key: 'r0' };

  it('a refused connection is a fail, unavailable, for every op', async () => {
    // A port nothing listens on: a server bound and closed again.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    for (const op of [write, cas, read]) {
      expect(await run(op, 'linearizable', { host: '127.0.0.1', port }), op.f).toMatchObject({
        ok: false,
        type: 'fail',
        unavailable: true,
      });
    }
  });

  it('a 4xx the server certainly rejected is a fail; a 408 (cancelled) write is unknown', async () => {
    for (const a of [
      grpcError(400, 'etcdserver: key is not provided', 3),
      grpcError(429, 'etcdserver: too many requests', 8),
      { status: 404, body: 'Not Found' },
    ]) {
      answer = () => a;
      for (const op of [write, cas]) {
        const r = await run(op);
        expect(r, `${op.f} ${JSON.stringify(a)}`).toMatchObject({ ok: false, type: 'fail' });
        expect((r as Classified).unavailable).toBeUndefined();
      }
    }
    answer = () => grpcError(408, 'etcdserver: request cancelled', 1);
    expect(await run(write)).toMatchObject({ ok: false, type: 'info' });
    expect(await run(cas)).toMatchObject({ ok: false, type: 'info' });
  });

  it('503 (leader changed, request timed out, no leader), other 5xx and resets are unknown for writes', async () => {
    const cases: [Answer, RegExp][] = [
      [grpcError(503, 'etcdserver: leader changed', 14), /^leader changed/],
      [grpcError(503, 'etcdserver: request timed out', 14), /^request timed out/],
      [grpcError(503, 'etcdserver: no leader', 14), /^server error/],
      [grpcError(500, 'etcdserver: unknown', 2), /^server error/],
      [grpcError(504, 'context deadline exceeded', 4), /^server error/],
      ['reset', /socket hang up|ECONNRESET/],
    ];
    for (const [a, error] of cases) {
      answer = () => a;
      for (const op of [write, cas]) {
        expect(await run(op), `${op.f} ${JSON.stringify(a)}`).toMatchObject({
          ok: false,
          type: 'info',
          error: expect.stringMatching(error),
        });
      }
    }
  });

  it('a read that failed in any way is a fail (a read changes nothing): unavailable for outages', async () => {
    for (const [a, unavailable] of [
      [grpcError(503, 'etcdserver: leader changed', 14), true],
      [grpcError(500, 'etcdserver: unknown', 2), true],
      ['reset', true],
      [grpcError(400, 'bad', 3), undefined],
    ] as const) {
      answer = () => a;
      const r = await run(read);
      expect(r, JSON.stringify(a)).toMatchObject({ ok: false, type: 'fail' });
      expect((r as Classified).unavailable, JSON.stringify(a)).toBe(unavailable);
    }
  });

  it('anything unknown is info', () => {
    expect(etcdErrors.classify(new Error('something odd')).type).toBe('info');
  });
});

describe('etcd system', () => {
  it('health is gated on a known leader; the leader hook maps the 64-bit leader id to a name', async () => {
    // Two ids a double cannot tell apart: they must be compared as the strings they are.
    const ids = { n1: '17345983784138051662', n2: '17345983784138051663' };
    let leader = '0';
    answer = (path) =>
      path === '/v3/maintenance/status'
        ? { status: 200, body: { header: { ...header, member_id: ids.n1 }, leader } }
        : {
            status: 200,
            body: {
              header,
              members: [
                { ID: ids.n1, name: 'n1', peerURLs: [] },
                { ID: ids.n2, name: 'n2', peerURLs: [] },
              ],
            },
          };
    const recipe = etcd.recipe();
    expect(await recipe.healthy(address)).toBe(false);
    leader = ids.n2;
    expect(await recipe.healthy(address)).toBe(true);
    const view = {
      nodes: ['n1', 'n2'],
      clientAddress: () => address,
      signal: new AbortController().signal,
    };
    expect(await etcd.leader?.(view)).toBe('n2');
    leader = '0';
    expect(await etcd.leader?.(view)).toBeUndefined();
    expect(await recipe.healthy({ host: '127.0.0.1', port: 1 })).toBe(false);
  });

  it('runs on docker only, starting every member with the same peer URLs and the settings', () => {
    expect(etcd.backends).toEqual(['docker']);
    expect(etcd.checkSettings?.({ 'election-timeout': 'soon' })).toMatch(/election-timeout/);
    expect(etcd.checkSettings?.({ serializable: 'true' })).toMatch(/no setting serializable/);
    expect(etcd.checkSettings?.({ 'heartbeat-interval': '400' })).toMatch(
      /election-timeout: expected at least 5 heartbeat intervals/,
    );
    expect(etcd.settingDefaults?.()).toEqual({
      'heartbeat-interval': 150,
      'election-timeout': 1500,
      'snapshot-count': undefined,
    });
    expect(etcdSystem({ reads: 'serializable' }).name).toBe('etcd-serializable');
    const launch = etcd.recipe().docker?.launch?.({
      node: 'n2',
      listen: { host: '10.0.0.12', port: 8000 },
      peerListen: { host: '10.0.0.12', port: 8001 },
      peers: { n1: { host: '10.0.0.11', port: 8001 }, n3: { host: '10.0.0.13', port: 8001 } },
      pool: { n1: { host: '10.0.0.11', port: 8001 }, n3: { host: '10.0.0.13', port: 8001 } },
      joining: false,
      dataDir: '/data/n2',
      settings: { 'election-timeout': '2000' },
    });
    expect(launch?.command).toBe('/bin/sh');
    expect(launch?.args.slice(0, 3)).toEqual([
      '-c',
      'exec /usr/bin/etcd "$@" --initial-cluster-token "faultline-$FAULTLINE_RUN_ID"',
      'etcd',
    ]);
    const args = launch?.args.slice(3).join(' ');
    expect(args).toBe(
      [
        '--name n2 --data-dir /data/n2',
        '--listen-client-urls http://10.0.0.12:8000 --advertise-client-urls http://10.0.0.12:8000',
        '--listen-peer-urls http://10.0.0.12:8001 --initial-advertise-peer-urls http://10.0.0.12:8001',
        '--initial-cluster n1=http://10.0.0.11:8001,n2=http://10.0.0.12:8001,n3=http://10.0.0.13:8001',
        '--initial-cluster-state new --heartbeat-interval 150 --election-timeout 2000',
      ].join(' '),
    );
  });
});
