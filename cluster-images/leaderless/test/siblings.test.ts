/** --conflict siblings across real processes: concurrent writes become siblings; a context resolves them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, call, startCluster } from './cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ size: 3, args: ['--conflict', 'siblings'] });
});
afterAll(async () => {
  await cluster?.stop();
});

const sorted = (v: unknown) => (v as unknown[]).map((x) => JSON.stringify(x)).sort();

describe('siblings mode', () => {
  it('keeps writes made without each other’s context as siblings, and a write with the context supersedes them', async () => {
    const [a, b, c] = cluster.nodes as [
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
      (typeof cluster.nodes)[0],
    ];
    expect((await call(a, 'PUT', '/kv/s?w=3', { value: 'from-a' })).status).toBe(200);
    expect((await call(b, 'PUT', '/kv/s?w=3', { value: 'from-b' })).status).toBe(200);
    const read = await call(c, 'GET', '/kv/s?r=3');
    expect(sorted(read.body.values)).toEqual(['"from-a"', '"from-b"']);
    expect(typeof read.body.context).toBe('string');
    // a write that saw both replaces both; a concurrent one that saw nothing survives as a sibling
    expect(
      (await call(a, 'PUT', '/kv/s?w=3', { value: 'merged', context: read.body.context })).status,
    ).toBe(200);
    expect(sorted((await call(b, 'GET', '/kv/s?r=3')).body.values)).toEqual(['"merged"']);
    expect((await call(c, 'PUT', '/kv/s?w=3', { value: 'blind' })).status).toBe(200);
    expect(sorted((await call(a, 'GET', '/kv/s?r=3')).body.values)).toEqual([
      '"blind"',
      '"merged"',
    ]);
    // a delete with the context removes exactly what was seen
    const seen = await call(b, 'GET', '/kv/s?r=3');
    expect(
      (
        await call(
          b,
          'DELETE',
          `/kv/s?w=3&context=${encodeURIComponent(String(seen.body.context))}`,
        )
      ).status,
    ).toBe(200);
    expect((await call(c, 'GET', '/kv/s?r=3')).body.values).toEqual([]);
  });

  it('rejects a context that is not one of ours with 400', async () => {
    const res = await call(cluster.nodes[0]!, 'PUT', '/kv/x', {
      value: 1,
      context: '%%%not-a-context',
    });
    expect(res.status).toBe(400);
    expect(res.body.outcome).toBe('failed');
  });
});
