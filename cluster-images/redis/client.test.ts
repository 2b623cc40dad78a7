import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Classified, ClientFactory, Op } from '../../core/client.js';
import { fixedClientContext, OpTimeout } from '../../core/client.js';
import type { HostPort } from '../../core/cluster.js';
import {
  CAS_SCRIPT,
  redisRegisterClient,
  redisReplicaSetClient,
  redisSetClient,
} from './client.js';
import { MASTER_NAME, SENTINEL_PORT } from './config.js';
import { ONCE_ONLY } from './connection.js';
import { redisErrors } from './errors.js';
import { closedPort, type FakeRedis, fakeRedis, type Reply } from './test/fake-resp.js';

/**
 * Three fake nodes, each a redis and a sentinel (on SENTINEL_PORT, as the client expects) on a
 * loopback address of its own (127.0.X.1-3, X from the pid, 20-119 here, so parallel test files do not meet).
 */
const NODES = ['n1', 'n2', 'n3'] as const;
type N = (typeof NODES)[number];
const subnet = 20 + (process.pid % 100);
const hostOf = (n: N) => `127.0.${subnet}.${NODES.indexOf(n) + 1}`;

const redisAnswer: Record<N, (cmd: string[]) => Reply> = {
  n1: () => 'hang',
  n2: () => 'hang',
  n3: () => 'hang',
};
const sentinelAnswer: Record<N, (cmd: string[]) => Reply> = {
  n1: () => 'hang',
  n2: () => 'hang',
  n3: () => 'hang',
};
const redisServers = {} as Record<N, FakeRedis>;
const sentinels = {} as Record<N, FakeRedis>;
const addresses = {} as Record<N, HostPort>;

beforeAll(async () => {
  for (const n of NODES) {
    redisServers[n] = await fakeRedis(hostOf(n), 0, (c) => redisAnswer[n](c));
    sentinels[n] = await fakeRedis(hostOf(n), SENTINEL_PORT, (c) => sentinelAnswer[n](c));
    addresses[n] = redisServers[n].address;
  }
});
afterAll(async () => {
  for (const n of NODES) await Promise.all([redisServers[n].close(), sentinels[n].close()]);
});

/** Every sentinel names `primary`; every redis answers ROLE as what it is, the rest by `data`. */
function cluster(primary: N, data: (n: N, cmd: string[]) => Reply = () => ({ simple: 'OK' })) {
  for (const n of NODES) {
    sentinelAnswer[n] = (c) =>
      c[0] === 'SENTINEL' && c[1] === 'get-master-addr-by-name' && c[2] === MASTER_NAME
        ? [addresses[primary].host, String(addresses[primary].port)]
        : { error: 'ERR unknown' };
    redisAnswer[n] = (c) =>
      c[0] === 'ROLE'
        ? n === primary
          ? ['master', 0, []]
          : ['slave', hostOf(primary), 1, 'connected', 0]
        : data(n, c);
  }
}

beforeEach(() => {
  for (const n of NODES) {
    redisServers[n].seen.length = 0;
    sentinels[n].seen.length = 0;
  }
  cluster('n1');
});

const commandsAt = (n: N) =>
  redisServers[n].seen.map((s) => s.command).filter((c) => c[0] !== 'ROLE');

type Outcome =
  | { ok: true; value: unknown; extra?: Record<string, unknown> }
  | ({ ok: false } & Classified);

/** One op through a fresh client of `node`, classified as the interpreter does. */
async function run(
  op: Op,
  opts: {
    node?: N;
    settings?: Record<string, string>;
    factory?: ClientFactory<Op>;
    timeoutMs?: number;
  } = {},
): Promise<Outcome> {
  const factory = opts.factory ?? redisRegisterClient;
  const node = opts.node ?? 'n1';
  const client = factory.open(
    node,
    addresses[node],
    fixedClientContext(addresses, opts.settings ?? {}),
  );
  const ctl = new AbortController();
  const timer = setTimeout(
    () => ctl.abort(new OpTimeout(opts.timeoutMs ?? 2000)),
    opts.timeoutMs ?? 2000,
  );
  try {
    const r = await client.invoke(op, ctl.signal);
    return { ok: true, value: r.value, ...(r.extra ? { extra: r.extra } : {}) };
  } catch (e) {
    return { ok: false, ...factory.errors.classify(ctl.signal.aborted ? ctl.signal.reason : e) };
  } finally {
    clearTimeout(timer);
    await client.close();
  }
}

const write: Op = { f: 'write', key: 'r0', value: 5 };
const cas: Op = { f: 'cas', key: 'r0', value: [1, 2] };
const read: Op = { f: 'read', key: 'r0' };

describe('redis client options', () => {
  it('switch off every ioredis behaviour that would re-send or queue a command', () => {
    expect(ONCE_ONLY).toMatchObject({
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      protocol: 2,
    });
    expect(ONCE_ONLY.retryStrategy()).toBeNull();
    expect(ONCE_ONLY.reconnectOnError()).toBe(false);
  });
});

describe('redis register client: requests, following the sentinels', () => {
  it('asks its own node sentinel, checks ROLE, and writes SET with the JSON value on the primary', async () => {
    cluster('n2');
    expect(await run(write, { node: 'n3' })).toEqual({
      ok: true,
      value: undefined,
      extra: { servedBy: 'n2' },
    });
    expect(sentinels.n3.seen.map((s) => s.command)).toEqual([
      ['SENTINEL', 'get-master-addr-by-name', MASTER_NAME],
    ]);
    expect(sentinels.n1.seen).toEqual([]);
    expect(redisServers.n2.seen.map((s) => s.command)).toEqual([
      ['ROLE'],
      ['SET', 'register:r0', '5'],
    ]);
    expect(commandsAt('n3')).toEqual([]);
  });

  it('asks its sentinel before every op and follows it to a new primary at the next op', async () => {
    const client = redisRegisterClient.open('n3', addresses.n3, fixedClientContext(addresses));
    await client.invoke(write, AbortSignal.timeout(2000));
    await client.invoke(write, AbortSignal.timeout(2000));
    cluster('n2');
    await client.invoke({ f: 'write', key: 'r0', value: 6 }, AbortSignal.timeout(2000));
    await client.close();
    expect(commandsAt('n1')).toEqual([
      ['SET', 'register:r0', '5'],
      ['SET', 'register:r0', '5'],
    ]);
    expect(redisServers.n1.seen.filter((s) => s.command[0] === 'ROLE')).toHaveLength(1);
    expect(commandsAt('n2')).toEqual([['SET', 'register:r0', '6']]);
    // One sentinel connection, asked three times.
    expect(sentinels.n3.seen.map((s) => s.connection)).toEqual(
      [1, 1, 1].map(() => sentinels.n3.seen[0]?.connection),
    );
    expect(sentinels.n3.seen).toHaveLength(3);
  });

  it('reads GET: the JSON value, null when absent', async () => {
    cluster('n1', (_n, c) => (c[0] === 'GET' ? (c[1] === 'register:r0' ? '17' : null) : 'hang'));
    expect(await run(read)).toMatchObject({ ok: true, value: 17 });
    expect(await run({ f: 'read', key: 'r9' })).toMatchObject({ ok: true, value: null });
  });

  it('cas is one EVAL of the script (from null: the key absent); 0 is a definite fail', async () => {
    let result = 1;
    cluster('n1', () => result);
    expect(await run(cas)).toMatchObject({ ok: true });
    expect(await run({ f: 'cas', key: 'r0', value: [null, 3] })).toMatchObject({ ok: true });
    expect(commandsAt('n1')).toEqual([
      ['EVAL', CAS_SCRIPT, '1', 'register:r0', '1', '1', '2'],
      ['EVAL', CAS_SCRIPT, '1', 'register:r0', '0', '', '3'],
    ]);
    result = 0;
    expect(await run(cas)).toMatchObject({
      ok: false,
      type: 'fail',
      error: expect.stringMatching(/^cas precondition failed/),
    });
    expect(commandsAt('n1')).toHaveLength(3); // one command per op, never retried
  });

  it('goes on to the next sentinel when its own does not answer or knows no primary', async () => {
    cluster('n3');
    sentinelAnswer.n1 = () => 'drop';
    sentinelAnswer.n2 = () => null;
    expect(await run(write)).toMatchObject({ ok: true, extra: { servedBy: 'n3' } });
    expect(sentinels.n3.seen).toHaveLength(1);
  });

  it('with route=node, writes to its own node without asking any sentinel', async () => {
    cluster('n1');
    expect(await run(write, { node: 'n2', settings: { route: 'node' } })).toMatchObject({
      ok: true,
    });
    expect(redisServers.n2.seen.map((s) => s.command)).toEqual([['SET', 'register:r0', '5']]);
    expect(NODES.flatMap((n) => sentinels[n].seen)).toEqual([]);
  });
});

describe('redis register client: classification (the table in errors.ts)', () => {
  it('no sentinel naming a primary, or a named node not primary, is a fail, unavailable, with nothing sent', async () => {
    for (const n of NODES) sentinelAnswer[n] = () => null;
    for (const op of [write, cas, read]) {
      expect(await run(op), op.f).toMatchObject({ ok: false, type: 'fail', unavailable: true });
    }
    cluster('n2');
    redisAnswer.n2 = (c) =>
      c[0] === 'ROLE' ? ['slave', 'x', 1, 'connected', 0] : { simple: 'OK' };
    expect(await run(write)).toMatchObject({
      ok: false,
      type: 'fail',
      unavailable: true,
      error: expect.stringMatching(/ROLE slave/),
    });
    expect(commandsAt('n2')).toEqual([]);
  });

  it('a refused connection is a fail, unavailable', async () => {
    const port = await closedPort(hostOf('n1'));
    const client = redisRegisterClient.open(
      'n1',
      addresses.n1,
      fixedClientContext({ n1: { host: hostOf('n1'), port } }, { route: 'node' }),
    );
    const e = await client.invoke(write, AbortSignal.timeout(2000)).catch((x: unknown) => x);
    expect(redisErrors.classify(e)).toMatchObject({ type: 'fail', unavailable: true });
  });

  it('a write whose connection drops after it was sent is info, and is never sent again', async () => {
    cluster('n1', (_n, c) => (c[0] === 'SET' ? 'drop' : { simple: 'OK' }));
    expect(await run(write)).toMatchObject({ ok: false, type: 'info' });
    // Time for any reconnect-and-resend to show up.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(commandsAt('n1')).toEqual([['SET', 'register:r0', '5']]);
    expect(redisServers.n1.connections()).toBeGreaterThan(0);
    const before = redisServers.n1.connections();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(redisServers.n1.connections()).toBe(before);
  });

  it('the same client goes on after a drop on a new connection, sending only the new op', async () => {
    let drop = true;
    cluster('n1', (_n, c) => {
      if (c[0] !== 'SET' || !drop) return { simple: 'OK' };
      drop = false;
      return 'drop';
    });
    const client = redisRegisterClient.open('n1', addresses.n1, fixedClientContext(addresses));
    const first = await client.invoke(write, AbortSignal.timeout(2000)).catch((x: unknown) => x);
    expect(redisErrors.classify(first).type).toBe('info');
    await client.invoke({ f: 'write', key: 'r0', value: 6 }, AbortSignal.timeout(2000));
    await client.close();
    expect(commandsAt('n1')).toEqual([
      ['SET', 'register:r0', '5'],
      ['SET', 'register:r0', '6'],
    ]);
  });

  it('a write with no answer by the op timeout is info', async () => {
    cluster('n1', () => 'hang');
    expect(await run(write, { timeoutMs: 300 })).toMatchObject({
      ok: false,
      type: 'info',
      error: 'timeout',
    });
  });

  it('error replies: READONLY, NOREPLICAS, LOADING, MASTERDOWN are fail unavailable; BUSY, OOM fail; others info', async () => {
    const cases: [string, { type: string; unavailable?: true }][] = [
      [
        "READONLY You can't write against a read only replica.",
        { type: 'fail', unavailable: true },
      ],
      ['NOREPLICAS Not enough good replicas to write.', { type: 'fail', unavailable: true }],
      ['LOADING Redis is loading the dataset in memory', { type: 'fail', unavailable: true }],
      ['MASTERDOWN Link with MASTER is down', { type: 'fail', unavailable: true }],
      ['BUSY Redis is busy running a script.', { type: 'fail' }],
      ['OOM command not allowed when used memory > maxmemory.', { type: 'fail' }],
      ['ERR Error running script (call to f_x): @user_script:3: oops', { type: 'info' }],
    ];
    for (const [error, want] of cases) {
      cluster('n1', () => ({ error }));
      for (const op of [write, cas]) {
        const r = await run(op);
        expect(r, `${op.f} ${error}`).toMatchObject({ ok: false, ...want });
        if (want.unavailable === undefined) expect((r as Classified).unavailable).toBeUndefined();
      }
    }
  });

  it('wait=N: WAIT after each write; fewer replicas, or a failed WAIT, is info; enough is ok', async () => {
    let acked: Reply = 1;
    cluster('n1', (_n, c) => (c[0] === 'WAIT' ? acked : c[0] === 'EVAL' ? 1 : { simple: 'OK' }));
    const settings = { wait: '1', 'wait-timeout': '250' };
    expect(await run(write, { settings })).toMatchObject({ ok: true });
    expect(commandsAt('n1')).toEqual([
      ['SET', 'register:r0', '5'],
      ['WAIT', '1', '250'],
    ]);
    acked = 0;
    expect(await run(write, { settings })).toMatchObject({
      ok: false,
      type: 'info',
      error: expect.stringMatching(/^not known replicated/),
    });
    expect(await run(cas, { settings })).toMatchObject({ ok: false, type: 'info' });
    acked = { error: 'READONLY no' };
    expect(await run(write, { settings })).toMatchObject({ ok: false, type: 'info' });
    acked = 'drop';
    expect(await run(write, { settings })).toMatchObject({ ok: false, type: 'info' });
    // Without the setting: no WAIT.
    redisServers.n1.seen.length = 0;
    await run(write);
    expect(commandsAt('n1')).toEqual([['SET', 'register:r0', '5']]);
  });

  it('a read that failed is a fail (unavailable for outages); aborted by its own timeout, info', async () => {
    cluster('n1', () => 'drop');
    expect(await run(read)).toMatchObject({ ok: false, type: 'fail', unavailable: true });
    cluster('n1', () => ({ error: 'LOADING Redis is loading' }));
    expect(await run(read)).toMatchObject({ ok: false, type: 'fail', unavailable: true });
    cluster('n1', () => ({
      error: 'WRONGTYPE Operation against a key holding the wrong kind of value',
    }));
    const r = await run(read);
    expect(r).toMatchObject({ ok: false, type: 'fail' });
    expect((r as Classified).unavailable).toBeUndefined();
    cluster('n1', () => 'hang');
    expect(await run(read, { timeoutMs: 300 })).toMatchObject({ ok: false, type: 'info' });
  });

  it('anything unknown is info', () => {
    expect(redisErrors.classify(new Error('something odd')).type).toBe('info');
  });
});

describe('redis set clients', () => {
  it('add = SADD, remove = SREM, read = SMEMBERS, elements as JSON', async () => {
    cluster('n1', (_n, c) => (c[0] === 'SMEMBERS' ? ['1', '3'] : 1));
    const factory = redisSetClient;
    expect(await run({ f: 'add', key: 's0', value: 3 }, { factory })).toMatchObject({ ok: true });
    expect(await run({ f: 'remove', key: 's0', value: 2 }, { factory })).toMatchObject({
      ok: true,
    });
    expect(await run({ f: 'read', key: 's0' }, { factory })).toMatchObject({
      ok: true,
      value: [1, 3],
    });
    expect(commandsAt('n1')).toEqual([
      ['SADD', 'set:s0', '3'],
      ['SREM', 'set:s0', '2'],
      ['SMEMBERS', 'set:s0'],
    ]);
    cluster('n1', () => 'drop');
    expect(await run({ f: 'add', key: 's0', value: 3 }, { factory })).toMatchObject({
      ok: false,
      type: 'info',
    });
  });

  it('replica reads scan the node own redis for every set, whatever its role', async () => {
    cluster('n1');
    redisAnswer.n2 = (c) => {
      if (c[0] === 'SCAN') return c[1] === '0' ? ['7', ['set:a']] : ['0', ['set:b']];
      if (c[0] === 'SMEMBERS') return c[1] === 'set:a' ? ['1', '2'] : ['5'];
      return { error: 'ERR unexpected' };
    };
    const r = await run(
      { f: 'replica-read', value: { node: 'n2', round: 1 } },
      { node: 'n2', factory: redisReplicaSetClient },
    );
    expect(r).toMatchObject({
      ok: true,
      value: { node: 'n2', round: 1, keys: { a: { elements: [1, 2] }, b: { elements: [5] } } },
    });
    expect(NODES.flatMap((n) => sentinels[n].seen)).toEqual([]);
    redisAnswer.n2 = () => 'drop';
    expect(
      await run(
        { f: 'replica-read', value: { node: 'n2', round: 2 } },
        { node: 'n2', factory: redisReplicaSetClient },
      ),
    ).toMatchObject({ ok: false, type: 'fail' });
  });
});
