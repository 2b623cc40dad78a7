/** Three real node processes: write at one node, read at the others; bad input never kills a node. */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, call, replicaContents, startCluster, status } from './cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ size: 3 });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('a 3-node cluster', () => {
  it('reads at every node what one node wrote (kv, with quorum parameters)', async () => {
    const [a, b, c] = cluster.nodes as [
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
    ];
    for (let i = 0; i < 20; i++) {
      expect((await call(a, 'PUT', `/kv/key-${i}?w=3`, { value: { i } })).status).toBe(200);
    }
    for (const node of [b, c]) {
      for (let i = 0; i < 20; i++) {
        const res = await call(node, 'GET', `/kv/key-${i}?r=1`);
        expect(res).toEqual({ status: 200, body: { values: [{ i }], context: '', outcome: 'ok' } });
      }
    }
    expect((await call(b, 'DELETE', '/kv/key-0?w=3')).status).toBe(200);
    expect((await call(c, 'GET', '/kv/key-0?r=1')).body.values).toEqual([]);
    expect((await call(c, 'GET', '/kv/never-written')).body.values).toEqual([]);
    // w=3 reached every replica: each node's own store holds the writes
    for (const node of cluster.nodes) {
      const held = await replicaContents(node);
      expect(held.get('kv/key-7')?.view).toEqual({ values: [{ i: 7 }], context: '' });
    }
  });

  it('merges CRDT updates made at different nodes', async () => {
    const [a, b, c] = cluster.nodes as [
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
    ];
    await call(a, 'POST', '/set/s', { add: 'x' });
    await call(b, 'POST', '/set/s', { add: 'y' });
    await call(c, 'POST', '/set/s', { add: { z: 1 } });
    await call(a, 'POST', '/set/s', { remove: 'x' });
    const set = await call(b, 'GET', '/set/s?r=3');
    expect(set.status).toBe(200);
    expect((set.body.value as unknown[]).map((v) => JSON.stringify(v)).sort()).toEqual([
      '"y"',
      '{"z":1}',
    ]);
    const deltas = [5, -2, 10, 1, -7];
    await Promise.all(
      deltas.map((d, i) => call(cluster.nodes[i % 3]!, 'POST', '/counter/c', { delta: d })),
    );
    expect((await call(c, 'GET', '/counter/c?r=3')).body.value).toBe(7);
  });

  it('runs CASPaxos registers from any node', async () => {
    const [a, b, c] = cluster.nodes as [
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
    ];
    expect((await call(a, 'GET', '/lin/r')).body.value).toBeNull();
    expect((await call(a, 'PUT', '/lin/r', { value: 1 })).status).toBe(200);
    expect((await call(b, 'GET', '/lin/r')).body.value).toBe(1);
    expect((await call(c, 'POST', '/lin/r/cas', { from: 1, to: { v: 2 } })).status).toBe(200);
    const lost = await call(a, 'POST', '/lin/r/cas', { from: 1, to: 3 });
    expect(lost.status).toBe(409);
    expect(lost.body).toMatchObject({ outcome: 'failed', value: { v: 2 } });
    expect((await call(b, 'GET', '/lin/r')).body.value).toEqual({ v: 2 });
    // Concurrent increments through cas from all nodes: two successful cas can never make the
    // same step. (503 = unknown outcome under contention: that step may or may not exist; 412 =
    // timed out queued behind this node's earlier operations on the key, nothing sent, which a
    // busy machine can cause.)
    const results = await Promise.all(
      cluster.nodes.flatMap((node) =>
        [0, 1, 2, 3].map(async () => {
          for (;;) {
            const read = await call(node, 'GET', '/lin/ctr');
            if (read.status !== 200) continue;
            const cur = read.body.value as number | null;
            const next = (cur ?? 0) + 1;
            const res = await call(node, 'POST', '/lin/ctr/cas', { from: cur, to: next });
            if (res.status === 200) return next;
            expect([409, 412, 503]).toContain(res.status);
          }
        }),
      ),
    );
    expect(new Set(results).size).toBe(12);
    expect((await call(c, 'GET', '/lin/ctr')).body.value).toBeGreaterThanOrEqual(
      Math.max(...results),
    );
  });

  it('answers bad input with 4xx JSON errors and keeps serving', async () => {
    const a = cluster.nodes[0]!;
    const bad: Array<[string, string, string | undefined, number]> = [
      ['PUT', '/kv/k', '{oops', 400],
      ['POST', '/counter/k', '{"delta":"x"}', 400],
      ['POST', '/lin/k/cas', '[]', 400],
      ['GET', '/missing/route', undefined, 404],
      ['PUT', '/kv/k', JSON.stringify({ value: 'x'.repeat(2_000_000) }), 413],
    ];
    for (const [method, path, body, code] of bad) {
      const res = await call(a, method, path, body);
      expect({ path, status: res.status }).toEqual({ path, status: code });
      expect(res.body.outcome).toBe('failed');
    }
    expect((await call(a, 'GET', '/kv/key-3')).status).toBe(200);
  });

  it('disconnects a peer that sends garbage and stays healthy', async () => {
    const b = cluster.nodes[1]!;
    for (const payload of [
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.from([0, 0, 0, 3, 0x7b, 0x7b, 0x7b]),
    ]) {
      const sock = net.connect(b.peerPort, '127.0.0.1');
      sock.on('error', () => {});
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(payload);
      await new Promise<void>((r) => sock.once('close', () => r()));
    }
    expect(b.proc?.exitCode).toBeNull();
    expect((await call(b, 'PUT', '/kv/after-garbage', { value: 1 })).status).toBe(200);
    const view = await status(b);
    expect(Object.values(view.members).every((m) => m.healthy)).toBe(true);
    expect(b.output.join('')).toMatch(/disconnecting/);
  });
});

describe('hostile input at the peer and client ports', () => {
  it('stores a value at the nesting limit on every acceptor, without dropping peer links', async () => {
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
    let value: unknown = 'leaf';
    for (let i = 0; i < 64; i++) value = i % 2 ? [value] : { k: value };
    const put = await call(a, 'PUT', '/lin/deep', { value });
    expect(put.status).toBe(200);
    expect((await call(b, 'GET', '/lin/deep')).body.value).toEqual(value);
    expect(cluster.nodes.map((n) => n.output.join('')).join('')).not.toMatch(/invalid request/);
  });

  it('is not wedged by a forged gossip frame claiming far-future generations', async () => {
    const [a] = cluster.nodes as [(typeof cluster.nodes)[0]];
    const frame = (msg: unknown) => {
      const json = Buffer.from(JSON.stringify(msg));
      const head = Buffer.alloc(4);
      head.writeUInt32BE(json.length);
      return Buffer.concat([head, json]);
    };
    // As n2: a hello, then gossip claiming the largest generations that pass validation.
    const sock = net.connect(a.peerPort, '127.0.0.1');
    sock.on('error', () => {});
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const gen = Number.MAX_SAFE_INTEGER;
    sock.write(frame({ t: 'hello', v: 1, from: 'n2', to: 'n1' }));
    sock.write(
      frame({
        t: 'req',
        id: 1,
        body: {
          t: 'gossip',
          hb: [
            ['n2', gen, 1],
            ['n3', gen, 1],
          ],
        },
      }),
    );
    sock.write(
      frame({
        t: 'req',
        id: 2,
        body: {
          t: 'gossip',
          hb: [
            ['n2', 1e308, 1],
            ['n3', 1e308, 1],
          ],
        },
      }),
    );
    await new Promise((r) => setTimeout(r, 3000)); // longer than the 2 s suspect timeout
    sock.destroy();
    const view = await status(a);
    expect(Object.values(view.members).every((m) => m.healthy)).toBe(true);
    expect((await call(a, 'PUT', '/lin/after-forgery', { value: 1 })).status).toBe(200);
  });
});
