import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClientContext, type Op } from '../../core/client.js';
import type { HostPort } from '../../core/cluster.js';
import { redisListAppendClient, redisRwRegisterClient } from './client.js';
import { type FakeRedis, fakeRedis, type Reply } from './test/fake-resp.js';

/**
 * One fake redis with lists, strings and MULTI … EXEC (one client at a time), reached with
 * `route=node`. `fault` may answer a command instead (drop the connection at it).
 */
let server: FakeRedis;
let address: HostPort;
let data: Map<string, string[] | string>;
let queue: string[][] | undefined;
let fault: ((cmd: string[]) => Reply | undefined) | undefined;

function run(cmd: string[]): Reply {
  const [name, key = '', ...args] = cmd;
  if (name === 'RPUSH') {
    const list = (data.get(key) as string[] | undefined) ?? [];
    data.set(key, [...list, ...args]);
    return list.length + args.length;
  }
  if (name === 'LRANGE') return [...((data.get(key) as string[] | undefined) ?? [])];
  if (name === 'SET') {
    data.set(key, args[0]!);
    return { simple: 'OK' };
  }
  if (name === 'GET') return (data.get(key) as string | undefined) ?? null;
  return { error: `ERR unknown command ${name}` };
}

function answer(cmd: string[]): Reply {
  const f = fault?.(cmd);
  if (f !== undefined) return f;
  if (cmd[0] === 'MULTI') {
    queue = [];
    return { simple: 'OK' };
  }
  if (cmd[0] === 'EXEC') {
    const replies = (queue ?? []).map(run);
    queue = undefined;
    return replies;
  }
  if (queue !== undefined) {
    queue.push(cmd);
    return { simple: 'QUEUED' };
  }
  return run(cmd);
}

beforeAll(async () => {
  server = await fakeRedis('127.0.0.1', 0, answer);
  address = server.address;
});
afterAll(() => server.close());
beforeEach(() => {
  data = new Map();
  queue = undefined;
  fault = undefined;
  server.seen.length = 0;
});

async function txn(factory: typeof redisListAppendClient, value: unknown[]) {
  const client = factory.open(
    'n1',
    address,
    fixedClientContext({ n1: address }, { route: 'node' }),
  );
  try {
    return {
      ok: true,
      ...(await client.invoke({ f: 'txn', value } as Op, AbortSignal.timeout(3000))),
    };
  } catch (e) {
    return { ok: false, ...factory.errors.classify(e) };
  } finally {
    await client.close();
  }
}

describe('redis txn clients', () => {
  it('send a txn as MULTI … EXEC and fill in its reads', async () => {
    await txn(redisListAppendClient, [['append', 'x', 1]]);
    const r = await txn(redisListAppendClient, [
      ['append', 'x', 2],
      ['r', 'x', null],
      ['r', 'y', null],
    ]);
    expect(r).toMatchObject({
      ok: true,
      value: [
        ['append', 'x', 2],
        ['r', 'x', [1, 2]],
        ['r', 'y', []],
      ],
    });
    expect(server.seen.slice(-5).map((s) => s.command)).toEqual([
      ['MULTI'],
      ['RPUSH', 'txn:x', '2'],
      ['LRANGE', 'txn:x', '0', '-1'],
      ['LRANGE', 'txn:y', '0', '-1'],
      ['EXEC'],
    ]);
    await txn(redisRwRegisterClient, [['w', 'z', 7]]);
    expect(
      await txn(redisRwRegisterClient, [
        ['r', 'z', null],
        ['r', 'w', null],
      ]),
    ).toMatchObject({
      value: [
        ['r', 'z', 7],
        ['r', 'w', null],
      ],
    });
  });

  it('records fail when the txn broke off before EXEC, info when EXEC got no answer', async () => {
    fault = (cmd) => (cmd[0] === 'RPUSH' ? 'drop' : undefined);
    expect(await txn(redisListAppendClient, [['append', 'x', 1]])).toMatchObject({
      ok: false,
      type: 'fail',
    });
    fault = (cmd) => (cmd[0] === 'EXEC' ? 'drop' : undefined);
    expect(await txn(redisListAppendClient, [['append', 'x', 1]])).toMatchObject({
      ok: false,
      type: 'info',
    });
  });

  it('refuses micro-ops of the other workload', async () => {
    expect(await txn(redisListAppendClient, [['w', 'x', 1]])).toMatchObject({
      ok: false,
      type: 'fail',
      error: expect.stringMatching(/no micro-op w/),
    });
  });
});
