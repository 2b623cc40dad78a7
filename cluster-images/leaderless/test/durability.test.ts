/**
 * With --fsync always, a SIGKILL of every node in the middle of a write load loses no write that
 * was acknowledged: after a restart from the logs, every replica that acked a write holds it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Cluster, call, replicaContents, startCluster, status, waitUntil } from './cluster.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stop();
});

describe('restart from the log after SIGKILL (--fsync always)', () => {
  it('keeps every acknowledged eventual and CASPaxos write', async () => {
    const c = await startCluster({ size: 3, args: ['--fsync', 'always', '--w', '3'] });
    cluster = c;
    const ackedKv: string[] = [];
    const ackedLin: string[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const node = c.nodes[(w + i) % 3]!;
        const kind = i % 2 === 0 ? 'kv' : 'lin';
        const key = `${kind}-${w}-${i}`;
        try {
          const res = await call(node, 'PUT', `/${kind}/${key}`, { value: `${key}!` });
          if (res.status === 200) (kind === 'kv' ? ackedKv : ackedLin).push(key);
        } catch {
          // connection cut by the kill: outcome unknown, not counted
        }
      }
    };
    const workers = [0, 1, 2, 3, 4, 5].map(worker);
    await waitUntil(() => ackedKv.length >= 60 && ackedLin.length >= 30, 20_000);
    await Promise.all(c.nodes.map((n) => n.kill('SIGKILL')));
    stop = true;
    await Promise.all(workers);
    await Promise.all(c.nodes.map((n) => n.start()));

    for (const node of c.nodes) {
      const held = await replicaContents(node);
      const missing = ackedKv.filter(
        (k) =>
          JSON.stringify((held.get(`kv/${k}`)?.view as { values?: unknown })?.values) !==
          JSON.stringify([`${k}!`]),
      );
      expect({ node: node.id, missing }).toEqual({ node: node.id, missing: [] });
    }
    await waitUntil(
      async () =>
        (await Promise.all(c.nodes.map(status))).every((v) =>
          Object.values(v.members).every((m) => m.healthy),
        ),
      10_000,
    );
    for (const [i, key] of ackedLin.entries()) {
      const res = await call(c.nodes[i % 3]!, 'GET', `/lin/${key}`);
      expect({ key, status: res.status, value: res.body.value }).toEqual({
        key,
        status: 200,
        value: `${key}!`,
      });
    }
  });
});
