/**
 * Killed replicas catch up: hinted handoff (5 nodes) and anti-entropy alone (3 nodes, with hints
 * and read repair off), observed through the restarted node's own /admin/replica.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Ring } from '../src/cluster/ring.js';
import {
  type Cluster,
  call,
  replicaContents,
  replicaLines,
  startCluster,
  status,
  type TestNode,
  waitUntil,
} from './cluster.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** Keys whose preference list (N=3, default vnodes) includes `owner`. */
function keysOwnedBy(owner: string, members: string[], count: number): string[] {
  const ring = new Ring(members, 64);
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    if (ring.preferenceList(`k${i}`, 3).includes(owner)) out.push(`k${i}`);
  }
  return out;
}

async function holdsAll(node: Cluster['nodes'][number], keys: string[]): Promise<boolean> {
  const held = await replicaContents(node);
  return keys.every((k) => {
    const v = held.get(`kv/${k}`)?.view as { values: unknown[] } | undefined;
    return JSON.stringify(v?.values) === JSON.stringify([`v-${k}`]);
  });
}

describe('catching up after a kill -9', () => {
  it('hinted handoff brings a restarted replica level (5 nodes)', async () => {
    const c = await startCluster({ size: 5, args: ['--anti-entropy-interval', '0'] });
    cluster = c;
    const victim = c.nodes[4]!;
    const coordinator = c.nodes[0]!;
    await victim.kill('SIGKILL');
    await waitUntil(async () => !(await status(coordinator)).members[victim.id]!.healthy, 10_000);
    const keys = keysOwnedBy(
      victim.id,
      c.nodes.map((n) => n.id),
      25,
    );
    for (const k of keys) {
      const res = await call(coordinator, 'PUT', `/kv/${k}?w=3`, { value: `v-${k}` });
      expect(res.status).toBe(200);
    }
    const pending = async () => {
      const views = await Promise.all(c.nodes.slice(0, 4).map(status));
      return views.reduce((sum, v) => sum + (v.hints.pending[victim.id] ?? 0), 0);
    };
    expect(await pending()).toBe(keys.length * 1);
    // Every line names its key's owners; a stand-in lists each key it holds a hint for, so a
    // replica reader learns of the key and its owners even from a node that does not own it.
    const members = c.nodes.map((n) => n.id);
    const ring = new Ring(members, 64);
    const lines = (await Promise.all(c.nodes.slice(0, 4).map(replicaLines))).flat();
    for (const l of lines) expect(l.owners).toEqual(ring.preferenceList(l.key, 3));
    const hinted = lines.filter((l) => l.hintFor !== undefined);
    expect(hinted.map((l) => l.key).sort()).toEqual([...keys].sort());
    for (const l of hinted) {
      expect(l.hintFor).toBe(victim.id);
      expect(l.view).toMatchObject({ values: [`v-${l.key}`] });
    }
    await victim.start();
    await waitUntil(() => holdsAll(victim, keys), 15_000);
    await waitUntil(async () => (await pending()) === 0, 10_000);
  });

  it('anti-entropy alone brings a restarted replica level (3 nodes, no hints, no read repair)', async () => {
    const c = await startCluster({
      size: 3,
      args: ['--hinted-handoff', 'off', '--read-repair', 'off', '--anti-entropy-interval', '200'],
    });
    cluster = c;
    const victim = c.nodes[2]!;
    await victim.kill('SIGKILL');
    const keys = Array.from({ length: 40 }, (_, i) => `ae-${i}`);
    for (const k of keys) {
      expect((await call(c.nodes[0]!, 'PUT', `/kv/${k}`, { value: `v-${k}` })).status).toBe(200);
    }
    await victim.start();
    expect(await holdsAll(victim, keys)).toBe(false);
    await waitUntil(() => holdsAll(victim, keys), 20_000);
    // ...and it was anti-entropy that moved them (counters settle once the round's writes are durable)
    const moved = async () => {
      const views = await Promise.all(c.nodes.map(status));
      return (
        views[2]!.antiEntropy.recordsPulled +
        views[0]!.antiEntropy.recordsPushed +
        views[1]!.antiEntropy.recordsPushed
      );
    };
    await waitUntil(async () => (await moved()) >= keys.length, 5_000);
  });

  it('keeps serving while a replica is paused (SIGSTOP) and brings it level after SIGCONT', async () => {
    const c = await startCluster({ size: 3, args: ['--anti-entropy-interval', '300'] });
    cluster = c;
    const [a, b, paused] = c.nodes as [TestNode, TestNode, TestNode];
    paused.proc!.kill('SIGSTOP');
    try {
      // quorums of the two live nodes answer (no hang on the silent one), before and after the
      // pause is detected
      for (let i = 0; i < 10; i++) {
        const kv = await call(i % 2 ? a : b, 'PUT', `/kv/p${i}`, { value: `v-p${i}` });
        expect(kv.status).toBe(200);
        const lin = await call(i % 2 ? b : a, 'PUT', `/lin/p${i}`, { value: i });
        expect(lin.status).toBe(200);
      }
      expect((await call(a, 'GET', '/lin/p3')).body.value).toBe(3);
      await waitUntil(async () => !(await status(a)).members[paused.id]!.healthy, 10_000);
    } finally {
      paused.proc!.kill('SIGCONT');
    }
    const keys = Array.from({ length: 10 }, (_, i) => `p${i}`);
    await waitUntil(() => holdsAll(paused, keys), 20_000);
    await waitUntil(async () => (await status(a)).members[paused.id]!.healthy, 10_000);
  });
});
