import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Classified, Client, ClientFactory, Op } from '../../core/client.js';
import { fixedClientContext, OpTimeout, ReadFailed } from '../../core/client.js';
import {
  zookeeperRegisterClient,
  zookeeperReplicaSetClient,
  zookeeperSetClient,
} from './clients.js';
import { zookeeperErrors } from './errors.js';
import { encodeReply, OpCode, requests } from './protocol.js';
import { ConnectionLost, NotSent, ZkReplyError, ZkSession } from './session.js';
import {
  type Answer,
  type FakeZookeeper,
  fakeZookeeper,
  type SeenRequest,
} from './test/fake-zookeeper.js';

let answer: (req: SeenRequest) => Answer = () => 'store';
let fake: FakeZookeeper;
let client: Client | undefined;

beforeEach(async () => {
  answer = () => 'store';
  fake = await fakeZookeeper((req) => answer(req));
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  await fake.close();
});

type Outcome = ({ ok: true } & Record<string, unknown>) | ({ ok: false } & Classified);

/** Opens (once per test) a client of `factory` on the fake and runs one op, classified. */
async function run(
  op: Op,
  factory: ClientFactory<Op> = zookeeperRegisterClient(),
  signal: AbortSignal = AbortSignal.timeout(3000),
): Promise<Outcome> {
  client ??= factory.open('n1', fake.address, fixedClientContext({ n1: fake.address }));
  try {
    return { ok: true, ...(await client.invoke(op, signal)) };
  } catch (e) {
    return { ok: false, ...factory.errors.classify(e) };
  }
}

const types = () => fake.seen.map((s) => s.type);

describe('zookeeper register client: the ops', () => {
  it('read of an absent key is null; write creates the znode empty, then setData; cas uses the version read', async () => {
    expect(await run({ f: 'read', key: 'a' })).toEqual({ ok: true, value: null });
    expect(types()).toEqual([OpCode.getData]);
    fake.seen.length = 0;
    expect(await run({ f: 'write', key: 'a', value: 3 })).toEqual({ ok: true });
    // /r and /r/a created empty (value-neutral), then the op's one request.
    expect(fake.seen).toEqual([
      { xid: 2, type: OpCode.create, path: '/r', data: '' },
      { xid: 3, type: OpCode.create, path: '/r/a', data: '' },
      { xid: 4, type: OpCode.setData, path: '/r/a', data: '3', version: -1 },
    ]);
    expect(await run({ f: 'read', key: 'a' })).toEqual({ ok: true, value: 3 });
    fake.seen.length = 0;
    expect(await run({ f: 'cas', key: 'a', value: [3, 4] })).toEqual({ ok: true });
    // Known to exist now: no create; the version the getData's stat gave (1 after one write).
    expect(fake.seen.map((s) => [s.type, s.version])).toEqual([
      [OpCode.getData, undefined],
      [OpCode.setData, 1],
    ]);
    expect(await run({ f: 'cas', key: 'a', value: [3, 5] })).toMatchObject({
      ok: false,
      type: 'fail',
      error: expect.stringMatching(/^cas precondition failed: .*the value was 4/),
    });
    // A cas from null on an empty znode.
    expect(await run({ f: 'cas', key: 'b', value: [null, 1] })).toEqual({ ok: true });
    expect(fake.znodes.get('/r/b')?.data.toString()).toBe('1');
    expect(fake.sessions).toBe(1);
  });

  it('sync reads send a sync of the path, then getData', async () => {
    expect(await run({ f: 'read', key: 'a' }, zookeeperRegisterClient('sync'))).toEqual({
      ok: true,
      value: null,
    });
    expect(fake.seen.map((s) => [s.type, s.path])).toEqual([
      [OpCode.sync, '/r/a'],
      [OpCode.getData, '/r/a'],
    ]);
  });

  it('BadVersion on the cas setData is a fail: another write came between, nothing written', async () => {
    answer = (req) => (req.type === OpCode.setData ? { err: -103 } : 'store');
    expect(await run({ f: 'cas', key: 'a', value: [null, 1] })).toMatchObject({
      ok: false,
      type: 'fail',
      error: expect.stringMatching(/^bad version: setData: badVersion \(-103\)/),
    });
  });
});

describe('zookeeper register client: classification (the table in errors.ts)', () => {
  it('a connection dropped after the setData was sent is info, and the write is never re-sent', async () => {
    expect(await run({ f: 'read', key: 'a' })).toMatchObject({ ok: true });
    answer = (req) => (req.type === OpCode.setData ? 'drop' : 'store');
    expect(await run({ f: 'write', key: 'a', value: 1 })).toMatchObject({
      ok: false,
      type: 'info',
      error: expect.stringMatching(/^connection loss/),
    });
    const sets = () => fake.seen.filter((s) => s.type === OpCode.setData).length;
    expect(sets()).toBe(1);
    // The next op opens a new session; the lost write is not sent again.
    answer = () => 'store';
    expect(await run({ f: 'read', key: 'a' })).toEqual({ ok: true, value: null });
    expect(fake.sessions).toBe(2);
    expect(sets()).toBe(1);
    // The new session says what the client has seen: the zxid of the last reply (two creates
    // took the fake from 100 to 102), so a server behind it would refuse the session.
    expect(fake.connects.map((c) => c.lastZxidSeen)).toEqual([0n, 102n]);
  });

  it('a cas whose getData fails is a fail (its setData never went out); a dropped setData is info', async () => {
    answer = (req) => (req.type === OpCode.getData ? 'drop' : 'store');
    expect(await run({ f: 'cas', key: 'a', value: [null, 1] })).toMatchObject({
      ok: false,
      type: 'fail',
      unavailable: true,
      error: expect.stringMatching(/^not sent/),
    });
    answer = (req) => (req.type === OpCode.setData ? 'drop' : 'store');
    expect(await run({ f: 'cas', key: 'a', value: [null, 1] })).toMatchObject({
      ok: false,
      type: 'info',
    });
  });

  it('a read that fails is a fail: connection loss (unavailable) and an error code alike', async () => {
    answer = () => 'drop';
    expect(await run({ f: 'read', key: 'a' })).toMatchObject({
      ok: false,
      type: 'fail',
      unavailable: true,
      error: expect.stringMatching(/^read failed/),
    });
    answer = () => ({ err: -102 });
    const r = await run({ f: 'read', key: 'a' });
    expect(r).toMatchObject({ ok: false, type: 'fail', error: expect.stringMatching(/noAuth/) });
    expect((r as Classified).unavailable).toBeUndefined();
  });

  it('a read the op timeout aborts stays info (as the runner says); a write aborted after sending too', async () => {
    await run({ f: 'read', key: 'a' });
    answer = () => 'silent';
    const abort = (ms: number) => {
      const c = new AbortController();
      setTimeout(() => c.abort(new OpTimeout(ms)), ms);
      return c.signal;
    };
    expect(await run({ f: 'read', key: 'a' }, undefined, abort(100))).toMatchObject({
      ok: false,
      type: 'info',
      error: 'timeout',
    });
    expect(await run({ f: 'write', key: 'a', value: 1 }, undefined, abort(100))).toMatchObject({
      ok: false,
      type: 'info',
    });
  });

  it('no server at the address: a fail, unavailable, for every op', async () => {
    const address = fake.address;
    await fake.close();
    const factory = zookeeperRegisterClient();
    for (const op of [
      { f: 'read', key: 'a' },
      { f: 'write', key: 'a', value: 1 },
      { f: 'cas', key: 'a', value: [1, 2] },
    ]) {
      const c = factory.open('n1', address, fixedClientContext({ n1: address }));
      try {
        await c.invoke(op, AbortSignal.timeout(2000));
        expect.unreachable();
      } catch (e) {
        expect(factory.errors.classify(e), op.f).toMatchObject({ type: 'fail', unavailable: true });
      }
      await c.close();
    }
  });

  it('a malformed reply frame fails the op with a clear error (info for a write, fail for a read)', async () => {
    await run({ f: 'read', key: 'a' });
    const bad = Buffer.alloc(4);
    bad.writeInt32BE(-20);
    answer = (req) =>
      req.type === OpCode.setData || req.type === OpCode.getData ? { raw: bad } : 'store';
    expect(await run({ f: 'write', key: 'a', value: 1 })).toMatchObject({
      ok: false,
      type: 'info',
      error: 'malformed reply: bad frame length -20 (expected 0..1049600)',
    });
    const truncated = encodeReply({ xid: 0, zxid: 1n, err: 0 }, (w) => w.int(500));
    answer = (req) => {
      if (req.type !== OpCode.getData) return 'store';
      truncated.writeInt32BE(req.xid, 4);
      return { raw: truncated };
    };
    expect(await run({ f: 'read', key: 'a' })).toMatchObject({
      ok: false,
      type: 'fail',
      error: expect.stringMatching(/^read failed: .*truncated record: data needs 500 bytes/),
    });
  });

  it('ZooKeeper error codes map to their rows', () => {
    const as = (code: number) => zookeeperErrors.classify(new ZkReplyError(code, 'setData'));
    for (const code of [-103, -101, -8, -102, -114, -115, -6, -5, -100, -125, -118]) {
      expect(as(code), String(code)).toMatchObject({ type: 'fail' });
      expect(as(code).unavailable, String(code)).toBeUndefined();
    }
    for (const code of [-119, -127]) {
      expect(as(code), String(code)).toMatchObject({ type: 'fail', unavailable: true });
    }
    for (const code of [-4, -7, -112, -122, -1, -2, -3, -999]) {
      expect(as(code), String(code)).toMatchObject({ type: 'info' });
    }
    expect(zookeeperErrors.classify(new ConnectionLost('gone')).type).toBe('info');
    expect(zookeeperErrors.classify(new NotSent('no session'))).toMatchObject({
      type: 'fail',
      unavailable: true,
    });
    // The same codes on a read: fail, unavailable when the server could not serve.
    expect(zookeeperErrors.classify(new ReadFailed(new ZkReplyError(-7, 'getData')))).toMatchObject(
      { type: 'fail', unavailable: true },
    );
  });

  it('anything unknown is info', () => {
    expect(zookeeperErrors.classify(new Error('something odd')).type).toBe('info');
  });
});

describe('zookeeper session', () => {
  it('pings while idle, so the session outlives its timeout', async () => {
    const s = await ZkSession.connect(fake.address, { timeoutMs: 300, connectTimeoutMs: 1000 });
    await new Promise((r) => setTimeout(r, 700));
    expect(s.lost).toBeUndefined();
    await s.close();
  });

  it('a server silent past 2/3 of the session timeout: every outstanding request fails with ConnectionLost', async () => {
    const s = await ZkSession.connect(fake.address, { timeoutMs: 300, connectTimeoutMs: 1000 });
    answer = () => 'silent';
    fake.answerPings = false;
    const t0 = Date.now();
    const outstanding = [1, 2].map((i) =>
      s
        .request(
          'getData',
          OpCode.getData,
          (w) => requests.pathWatch(w, `/x${i}`),
          AbortSignal.timeout(5000),
        )
        .then(
          () => 'answered',
          (e: unknown) => e,
        ),
    );
    const errs = await Promise.all(outstanding);
    for (const e of errs) {
      expect(e).toBeInstanceOf(ConnectionLost);
      expect((e as Error).message).toMatch(
        /nothing from the server for \d+ ms \(session timeout 300 ms\)/,
      );
    }
    expect(Date.now() - t0).toBeLessThan(1000);
    // The session is over: the next request is not sent at all.
    await expect(
      s.request(
        'getData',
        OpCode.getData,
        (w) => requests.pathWatch(w, '/y'),
        AbortSignal.timeout(500),
      ),
    ).rejects.toBeInstanceOf(NotSent);
    expect(fake.seen.map((r) => r.path)).toEqual(['/x1', '/x2']);
  });

  it('a session the server refuses (timeout 0: expired), or no server: not opened, NotSent', async () => {
    fake.refuseSessions = true;
    await expect(
      ZkSession.connect(fake.address, { timeoutMs: 300, connectTimeoutMs: 500 }),
    ).rejects.toThrow(/refused the session \(sessionExpired\)/);
    const refused = await run({ f: 'write', key: 'a', value: 1 });
    expect(refused).toMatchObject({ ok: false, type: 'fail', unavailable: true });
    expect(fake.seen).toEqual([]);
    const dead = await fakeZookeeper();
    await dead.close();
    await expect(
      ZkSession.connect(dead.address, { timeoutMs: 300, connectTimeoutMs: 500 }),
    ).rejects.toBeInstanceOf(NotSent);
  });
});

describe('zookeeper set client', () => {
  it('add creates a child znode, read lists the children, remove deletes it', async () => {
    const set = zookeeperSetClient();
    expect(await run({ f: 'read', key: 's' }, set)).toEqual({ ok: true, value: [] });
    expect(await run({ f: 'add', key: 's', value: 1 }, set)).toEqual({ ok: true });
    expect(await run({ f: 'add', key: 's', value: 2 }, set)).toEqual({ ok: true });
    expect(await run({ f: 'read', key: 's' }, set)).toEqual({ ok: true, value: [1, 2] });
    expect(await run({ f: 'remove', key: 's', value: 1 }, set)).toEqual({ ok: true });
    expect(await run({ f: 'read', key: 's' }, set)).toEqual({ ok: true, value: [2] });
    // Adding what is there, removing what is not: the set is as the op wants it, ok.
    expect(await run({ f: 'add', key: 's', value: 2 }, set)).toEqual({ ok: true });
    expect(await run({ f: 'remove', key: 's', value: 1 }, set)).toEqual({ ok: true });
    answer = (req) => (req.type === OpCode.create ? 'drop' : 'store');
    expect(await run({ f: 'add', key: 's', value: 3 }, set)).toMatchObject({
      ok: false,
      type: 'info',
    });
  });

  it('replica-read lists every set of the server it is bound to', async () => {
    const set = zookeeperSetClient();
    await run({ f: 'add', key: 's', value: 1 }, set);
    await run({ f: 'add', key: 't/u', value: 2 }, set);
    await client?.close();
    client = undefined;
    expect(
      await run({ f: 'replica-read', value: { node: 'n1', round: 0 } }, zookeeperReplicaSetClient),
    ).toEqual({
      ok: true,
      value: { node: 'n1', round: 0, keys: { s: { elements: [1] }, 't/u': { elements: [2] } } },
    });
  });
});
