import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Classified, ClientFactory, Op } from '../../core/client.js';
import { fixedClientContext } from '../../core/client.js';
import type { HostPort } from '../../core/cluster.js';
import {
  etcd,
  etcdReplicaSetClient,
  etcdSetClient,
  etcdSystem,
  prefixRangeEnd,
  setPrefix,
} from './system.js';
import { type Answer, type FakeGateway, fakeGateway, type Seen } from './test/fake-gateway.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: unknown) => Buffer.from(String(s), 'base64');

/**
 * A small HTTP server answering like etcd 3.4's v3 gateway over an in-memory keyspace: put,
 * deleterange of one key, and range [key, range_end) in byte order, as etcd does, unless the
 * test overrides the answer.
 */
let gateway: FakeGateway;
let address: HostPort;
let store: Map<string, string>;
let override: ((path: string, body: Record<string, unknown>) => Answer | undefined) | undefined;
let seen: Seen[];
const header = { cluster_id: '11856560467991768286', member_id: '1', revision: '42' };

function keyspace(path: string, body: Record<string, unknown>): Answer {
  const key = unb64(body.key).toString('latin1');
  switch (path) {
    case '/v3/kv/put':
      store.set(key, String(body.value));
      return { status: 200, body: { header } };
    case '/v3/kv/deleterange':
      return { status: 200, body: { header, deleted: store.delete(key) ? '1' : undefined } };
    case '/v3/kv/range': {
      const end = body.range_end === undefined ? undefined : unb64(body.range_end);
      const from = unb64(body.key);
      const kvs = [...store.entries()]
        .filter(([k]) => {
          const kb = Buffer.from(k, 'latin1');
          return end === undefined
            ? kb.equals(from)
            : Buffer.compare(kb, from) >= 0 && Buffer.compare(kb, end) < 0;
        })
        .sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')))
        .map(([k, v]) => ({ key: Buffer.from(k, 'latin1').toString('base64'), value: v }));
      // proto3 JSON leaves out an empty list and a zero count.
      return {
        status: 200,
        body: kvs.length === 0 ? { header } : { header, kvs, count: String(kvs.length) },
      };
    }
    default:
      return { status: 404, body: { error: 'Not Found', code: 5 } };
  }
}

beforeAll(async () => {
  gateway = await fakeGateway((path, body) => override?.(path, body) ?? keyspace(path, body));
  address = gateway.address;
  seen = gateway.seen;
});
afterAll(() => gateway.close());
beforeEach(() => {
  seen.length = 0;
  store = new Map();
  override = undefined;
});

const grpcError = (status: number, error: string, code: number): Answer => ({
  status,
  body: { error, message: error, code },
});

/** Runs one op through a client of `factory` and classifies it as the interpreter would. */
async function run(
  op: Op,
  factory: ClientFactory<Op> = etcdSetClient(),
  at: HostPort = address,
): Promise<{ ok: true; value: unknown } | ({ ok: false } & Classified)> {
  const client = factory.open('n1', at, fixedClientContext({ n1: at }));
  try {
    const r = await client.invoke(op, AbortSignal.timeout(5000));
    return { ok: true, value: r.value };
  } catch (e) {
    return { ok: false, ...factory.errors.classify(e) };
  } finally {
    await client.close();
  }
}

/** An address nothing listens on (a server opened and closed). */
async function closedAddress(): Promise<HostPort> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return { host: '127.0.0.1', port };
}

describe('prefixRangeEnd', () => {
  it("is the prefix with its last byte + 1, as etcd's GetPrefixRangeEnd", () => {
    expect(unb64(prefixRangeEnd('/set/s0/')).toString()).toBe('/set/s00');
    expect(unb64(prefixRangeEnd('abc')).toString()).toBe('abd');
    expect(setPrefix('a/b')).toBe('/set/a%2Fb/');
  });
});

describe('etcd set client: requests', () => {
  it('adds as puts of /set/<key>/<element>, one request per op, the element as JSON text', async () => {
    expect(await run({ f: 'add', key: 's0', value: 5 })).toEqual({ ok: true, value: undefined });
    expect(seen).toEqual([
      { path: '/v3/kv/put', body: { key: b64('/set/s0/5'), value: b64('5') } },
    ]);
  });

  it('reads as one linearizable range over the prefix: the elements, [] when empty; no other set leaks in', async () => {
    for (const [key, value] of [
      ['s1', 1],
      ['s1', 2],
      ['s10', 3],
      ['s', 4],
      ['s2', 5],
    ] as const) {
      expect((await run({ f: 'add', key, value })).ok).toBe(true);
    }
    seen.length = 0;
    expect(await run({ f: 'read', key: 's1' })).toEqual({ ok: true, value: [1, 2] });
    expect(seen).toEqual([
      {
        path: '/v3/kv/range',
        body: { key: b64('/set/s1/'), range_end: b64('/set/s10') },
      },
    ]);
    expect(await run({ f: 'read', key: 's10' })).toEqual({ ok: true, value: [3] });
    expect(await run({ f: 'read', key: 's3' })).toEqual({ ok: true, value: [] });
  });

  it('reads serializably when the read mode says so', async () => {
    await run({ f: 'read', key: 's0' }, etcdSetClient('serializable'));
    expect(seen[0]?.body).toMatchObject({ serializable: true });
  });

  it('removes as a deleterange of the element key', async () => {
    await run({ f: 'add', key: 's0', value: 1 });
    await run({ f: 'add', key: 's0', value: 2 });
    expect((await run({ f: 'remove', key: 's0', value: 1 })).ok).toBe(true);
    expect(seen.at(-1)).toEqual({ path: '/v3/kv/deleterange', body: { key: b64('/set/s0/1') } });
    expect(await run({ f: 'read', key: 's0' })).toEqual({ ok: true, value: [2] });
  });

  it('refuses an unknown op as fail', async () => {
    expect(await run({ f: 'cas', key: 's0', value: [1, 2] })).toMatchObject({
      ok: false,
      type: 'fail',
    });
    expect(seen).toEqual([]);
  });
});

describe('etcd set client: classification (the register client table)', () => {
  const cases: [string, Answer, 'fail' | 'info', 'fail' | 'info'][] = [
    ['503 leader changed', grpcError(503, 'etcdserver: leader changed', 14), 'info', 'fail'],
    ['503 request timed out', grpcError(503, 'etcdserver: request timed out', 14), 'info', 'fail'],
    ['503 no leader', grpcError(503, 'etcdserver: no leader', 14), 'info', 'fail'],
    ['500 internal', grpcError(500, 'internal', 13), 'info', 'fail'],
    ['408 request cancelled', grpcError(408, 'context canceled', 1), 'info', 'fail'],
    ['400 bad request', grpcError(400, 'etcdserver: key is not provided', 3), 'fail', 'fail'],
    ['429 too many requests', grpcError(429, 'etcdserver: too many requests', 8), 'fail', 'fail'],
    ['a reset socket', 'reset', 'info', 'fail'],
    ['a 200 whose kvs is not an array', { status: 200, body: { kvs: 7 } }, 'info', 'fail'],
  ];
  for (const [what, answer, add, read] of cases) {
    it(`${what}: add ${add}, read ${read}`, async () => {
      override = () => answer;
      // The put's 200 of any shape is an ok: only the range's shape is checked.
      const addOutcome = await run({ f: 'add', key: 's0', value: 1 });
      if (answer !== 'reset' && answer.status === 200) expect(addOutcome.ok).toBe(true);
      else expect(addOutcome).toMatchObject({ ok: false, type: add });
      expect(await run({ f: 'read', key: 's0' })).toMatchObject({ ok: false, type: read });
    });
  }

  it('connection refused: fail, unavailable, for adds and reads', async () => {
    const at = await closedAddress();
    for (const f of ['add', 'read']) {
      expect(await run({ f, key: 's0', value: 1 }, etcdSetClient(), at)).toMatchObject({
        ok: false,
        type: 'fail',
        unavailable: true,
      });
    }
  });

  it('a read aborted by its signal stays info (timeout), never fail', async () => {
    override = () => undefined;
    const factory = etcdSetClient();
    const slow = http.createServer(() => {});
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const at = { host: '127.0.0.1', port: (slow.address() as AddressInfo).port };
    const client = factory.open('n1', at, fixedClientContext({ n1: at }));
    const ac = new AbortController();
    const p = client.invoke({ f: 'read', key: 's0' }, ac.signal);
    setTimeout(() => ac.abort(new Error('no answer')), 50);
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(factory.errors.classify(e).type).toBe('info');
    await client.close();
    slow.closeAllConnections();
    await new Promise<void>((resolve) => slow.close(() => resolve()));
  });
});

describe('etcd replica-set client', () => {
  it("reads the member's own state: one serializable range over /set/, grouped by set key", async () => {
    for (const [key, value] of [
      ['s0', 1],
      ['s0', 2],
      ['a/b', 3],
    ] as const) {
      await run({ f: 'add', key, value });
    }
    store.set('/other', b64('9'));
    seen.length = 0;
    const r = await run(
      { f: 'replica-read', value: { node: 'n1', round: 3 } },
      etcdReplicaSetClient,
    );
    expect(r).toEqual({
      ok: true,
      value: {
        node: 'n1',
        round: 3,
        keys: { s0: { elements: [1, 2] }, 'a/b': { elements: [3] } },
      },
    });
    expect(seen).toEqual([
      {
        path: '/v3/kv/range',
        body: { key: b64('/set/'), range_end: b64('/set0'), serializable: true },
      },
    ]);
  });

  it('any failure is fail (a read changes nothing); other ops are refused', async () => {
    override = () => grpcError(503, 'etcdserver: request timed out', 14);
    expect(
      await run({ f: 'replica-read', value: { node: 'n1', round: 1 } }, etcdReplicaSetClient),
    ).toMatchObject({ ok: false, type: 'fail' });
    expect(await run({ f: 'read', key: 's0' }, etcdReplicaSetClient)).toMatchObject({
      ok: false,
      type: 'fail',
    });
  });
});

describe('etcd system: set APIs', () => {
  it('offers set, replica-set and the txn APIs next to register, in both read modes', () => {
    for (const system of [etcd, etcdSystem({ reads: 'serializable' })]) {
      expect(Object.keys(system.clients).sort()).toEqual([
        'list-append',
        'register',
        'replica-set',
        'rw-register',
        'set',
      ]);
    }
  });
});
