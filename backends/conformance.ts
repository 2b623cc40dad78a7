import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, Cluster, ClusterOptions, NodeId, SystemRecipe } from '../core/cluster.js';
import { HttpError, StandinClient, standinRecipe } from './testing/standin.js';

export interface ConformanceOptions {
  /** The stand-in system as this backend runs it (default: `standinRecipe()`, local paths). */
  recipe?: SystemRecipe;
  /** Bound on cluster start and node restart (default 20 s). */
  startTimeoutMs?: number;
  /** How long a request waits before counting as "no answer" (default 800 ms). */
  silenceMs?: number;
  /**
   * What of the run `runId` still exists (processes, containers, networks), described one per
   * string. Must be empty after teardown.
   */
  leftovers(runId: string): Promise<string[]>;
}

const NODES: NodeId[] = ['n1', 'n2', 'n3'];
const N = 4096;
let runCounter = 0;

function runId(tag: string): string {
  runCounter += 1;
  return `conformance-${tag}-${process.pid}-${Date.now().toString(36)}-${runCounter}`;
}

/** Retry `probe` until it returns true or `ms` elapse (for faults whose recovery takes a moment). */
async function eventually(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await probe()) return true;
    } catch {
      // not yet
    }
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

/** The request fails; which way (refused / timeout / other). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'answered';
  } catch (err) {
    return err instanceof HttpError ? err.kind : 'other';
  }
}

/**
 * The conformance suite every backend must pass, registered as vitest tests: partitions cut
 * exactly the listed direction and heal, kill closes the port and restart keeps the data dir,
 * pause silences a node until resume, link delay slows what leaves a node, a fault the backend
 * lacks is refused, and teardown leaves nothing behind. It drives the stand-in system
 * (`testing/standin-node.mjs`) through `makeBackend()`.
 */
export function describeBackendConformance(
  makeBackend: () => Backend | Promise<Backend>,
  options: ConformanceOptions,
): void {
  const recipe = options.recipe ?? standinRecipe();
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const silenceMs = options.silenceMs ?? 800;

  describe('backend conformance', () => {
    let backend: Backend;
    let cluster: Cluster;
    let logsDir: string;
    let id: string;
    const client = (node: NodeId) => new StandinClient(cluster.clientAddress(node));
    const can = (c: Parameters<Backend['capabilities']['has']>[0]) => backend.capabilities.has(c);

    const clusterOptions = (tag: string, extra: Partial<ClusterOptions> = {}): ClusterOptions => {
      id = runId(tag);
      return {
        runId: id,
        recipe,
        nodes: NODES,
        settings: {},
        logsDir,
        startTimeoutMs,
        ...extra,
      };
    };

    beforeAll(async () => {
      backend = await makeBackend();
      logsDir = mkdtempSync(join(tmpdir(), 'faultline-conformance-logs-'));
      cluster = await backend.createCluster(clusterOptions('main'));
    });

    // Safe on a half-set-up fixture: beforeAll may have thrown before it set these.
    afterAll(async () => {
      try {
        await cluster?.teardown();
      } finally {
        if (logsDir) rmSync(logsDir, { recursive: true, force: true });
      }
    });

    it('brings every node up, answering at its client address', async () => {
      expect([...cluster.nodes]).toEqual(NODES);
      const ids = await Promise.all(NODES.map(async (n) => (await client(n).health()).id));
      expect(ids).toEqual(NODES);
    });

    it('lets peers exchange bytes both ways when nothing is wrong', async () => {
      for (const [a, b] of [
        ['n1', 'n2'],
        ['n2', 'n1'],
        ['n3', 'n1'],
      ] as const) {
        expect((await client(a).send(b, N)).echoed).toBe(N);
      }
    });

    it('cuts exactly the direction a grudge names, and heals', async () => {
      if (!can('partition')) {
        await expect(cluster.partition({ n2: ['n1'] })).rejects.toThrow();
        return;
      }
      // n2 drops traffic FROM n1.
      await cluster.partition({ n2: ['n1'] });
      const n2Before = await client('n2').received();
      const toN2 = await client('n1').send('n2', N, { timeoutMs: silenceMs });
      expect(toN2.echoed).toBe(0);
      expect(await client('n2').received()).toBe(n2Before);

      // The uncut direction: n2's bytes reach n1 (n1's echo back to n2 is cut).
      const n1Before = await client('n1').received();
      const toN1 = await client('n2').send('n1', N, { timeoutMs: silenceMs });
      expect(toN1.echoed).toBe(0);
      expect(await client('n1').received()).toBe(n1Before + N);

      // Pairs outside the grudge are untouched.
      expect((await client('n1').send('n3', N)).echoed).toBe(N);
      expect((await client('n3').send('n2', N)).echoed).toBe(N);

      await cluster.heal();
      expect(
        await eventually(async () => (await client('n1').send('n2', N)).echoed === N, 5000),
      ).toBe(true);
      expect((await client('n2').send('n1', N)).echoed).toBe(N);
    });

    it('blackholes connections that were open when the partition began', async () => {
      if (!can('partition')) {
        // Nothing to blackhole with: the fault must be refused, never quietly ignored.
        await expect(cluster.partition({ n1: ['n3'], n3: ['n1'] })).rejects.toThrow();
        return;
      }
      const warm = await client('n1').send('n3', N, { conn: 'keep' });
      expect(warm.echoed).toBe(N);
      await cluster.partition({ n1: ['n3'], n3: ['n1'] });
      const n3Before = await client('n3').received();
      const cut = await client('n1').send('n3', N, { conn: 'keep', timeoutMs: silenceMs });
      expect(cut.reused).toBe(true); // the connection stayed open
      expect(cut.echoed).toBe(0);
      expect(cut.error).toBeNull();
      expect(await client('n3').received()).toBe(n3Before);
      await cluster.heal();
      // After heal the kept connection either recovers or is reset and replaced: bytes flow again.
      expect(
        await eventually(
          async () => (await client('n1').send('n3', N, { conn: 'keep' })).echoed >= N,
          10_000,
        ),
      ).toBe(true);
    });

    it('kill closes the node, start brings it back with its data', async () => {
      if (!can('kill')) {
        await expect(cluster.kill('n1')).rejects.toThrow();
        return;
      }
      const token = `data-${Date.now()}`;
      await client('n1').writeFile('token', token);
      const before = await client('n1').health();
      await cluster.kill('n1');
      expect(await failure(client('n1').health(silenceMs))).not.toBe('answered');
      await cluster.start('n1');
      const after = await client('n1').health();
      expect(after.pid === before.pid && after.now <= before.now).toBe(false);
      expect(await client('n1').readFile('token')).toBe(token);
      // Its peers reach it again.
      expect(
        await eventually(async () => (await client('n2').send('n1', N)).echoed === N, 5000),
      ).toBe(true);
    });

    it('a paused node answers nothing, then answers again after resume', async () => {
      if (!can('pause')) {
        await expect(cluster.pause('n2')).rejects.toThrow();
        return;
      }
      await cluster.pause('n2');
      expect(await failure(client('n2').health(silenceMs))).toBe('timeout');
      expect((await client('n1').send('n2', N, { timeoutMs: silenceMs })).echoed).toBe(0);
      await cluster.resume('n2');
      expect((await client('n2').health()).id).toBe('n2');
      expect(
        await eventually(async () => (await client('n1').send('n2', N)).echoed === N, 5000),
      ).toBe(true);
    });

    it('link delay slows traffic leaving the node, and clears', async () => {
      if (!can('link-delay')) {
        await expect(cluster.setLink('n3', { delayMs: 400 })).rejects.toThrow();
        return;
      }
      await cluster.setLink('n3', { delayMs: 400 });
      const t0 = performance.now();
      const r = await client('n1').send('n3', N, { timeoutMs: 5000 });
      const rtt = performance.now() - t0;
      expect(r.echoed).toBe(N);
      // Only n3's answer is delayed: at least the delay, however fast the machine.
      expect(rtt).toBeGreaterThanOrEqual(380);
      await cluster.setLink('n3', {});
      expect((await client('n1').send('n3', N)).echoed).toBe(N);
    });

    it('moves a node clock only with the clock capability', async () => {
      if (!can('clock')) {
        await expect(cluster.setClock('n1', 60_000)).rejects.toThrow(/clock/);
        return;
      }
      const offset = 3_600_000;
      await cluster.setClock('n1', offset);
      const skew = (await client('n1').health()).now - Date.now();
      expect(Math.abs(skew - offset)).toBeLessThan(5_000);
      await cluster.setClock('n1', 0);
      const back = (await client('n1').health()).now - Date.now();
      expect(Math.abs(back)).toBeLessThan(5_000);
    });

    it('adds a node of the pool fresh, removes it (data gone), and adds it again', async () => {
      const mainId = id;
      const pooled = await backend.createCluster(clusterOptions('pool', { spares: ['n4'] }));
      const poolId = id;
      id = mainId;
      try {
        expect([...pooled.nodes]).toEqual(NODES);
        expect([...pooled.spares]).toEqual(['n4']);
        const at = (n: NodeId) => new StandinClient(pooled.clientAddress(n));
        // A spare runs nothing, and node faults on it are refused.
        expect(await failure(at('n4').health(silenceMs))).not.toBe('answered');
        await expect(pooled.kill('n4')).rejects.toThrow(/not a member/);
        await expect(pooled.pause('n4')).rejects.toThrow(/not a member/);

        await pooled.addNode('n4');
        expect((await at('n4').health()).id).toBe('n4');
        await expect(pooled.addNode('n4')).rejects.toThrow(/already a member/);
        // It reaches the others and they reach it, through whatever carries peer traffic.
        expect((await at('n4').send('n1', N)).echoed).toBe(N);
        expect((await at('n2').send('n4', N)).echoed).toBe(N);
        if (can('partition')) {
          await pooled.partition({ n4: ['n1'], n1: ['n4'] });
          expect((await at('n4').send('n1', N, { timeoutMs: silenceMs })).echoed).toBe(0);
          await pooled.heal();
        }
        await at('n4').writeFile('token', 'kept-until-removed');

        await pooled.removeNode('n4');
        expect(await failure(at('n4').health(silenceMs))).not.toBe('answered');
        await expect(pooled.start('n4')).rejects.toThrow(/not a member/);
        // healAll leaves a removed node stopped.
        await pooled.healAll();
        expect(await failure(at('n4').health(silenceMs))).not.toBe('answered');

        // Added again, it is a fresh node: the data it had is gone.
        await pooled.addNode('n4');
        expect(await at('n4').readFile('token')).toBeUndefined();
        // A node that exited on its own (etcd does once removed) can still be killed and removed.
        await at('n4').exit();
        expect(
          await eventually(async () => (await failure(at('n4').health(300))) !== 'answered', 5000),
        ).toBe(true);
        await pooled.kill('n4');
        await pooled.removeNode('n4');
        // An initial node can be removed too, and killing a removed node is refused.
        await pooled.removeNode('n3');
        await expect(pooled.kill('n3')).rejects.toThrow(/not a member/);
        expect((await at('n1').health()).id).toBe('n1');
      } finally {
        await pooled.teardown();
      }
      expect(await options.leftovers(poolId)).toEqual([]);
    });

    it('healAll undoes every fault at once', async () => {
      if (can('kill')) await cluster.kill('n1');
      if (can('pause')) await cluster.pause('n2');
      if (can('partition')) await cluster.partition({ n3: ['n1', 'n2'], n1: ['n3'] });
      if (can('link-delay')) await cluster.setLink('n3', { delayMs: 5000 });
      await cluster.healAll();
      for (const n of NODES) expect((await client(n).health()).id).toBe(n);
      for (const [a, b] of [
        ['n1', 'n3'],
        ['n3', 'n2'],
        ['n2', 'n1'],
      ] as const) {
        const ok = await eventually(
          async () => (await client(a).send(b, N, { timeoutMs: 2000 })).echoed === N,
          5000,
        );
        expect(ok).toBe(true);
      }
    });

    it('teardown leaves nothing behind and is idempotent', async () => {
      const addresses = NODES.map((n) => cluster.clientAddress(n));
      const runOfMain = id;
      expect((await options.leftovers(runOfMain)).length).toBeGreaterThan(0);
      await cluster.teardown();
      await cluster.teardown();
      expect(await options.leftovers(runOfMain)).toEqual([]);
      for (const a of addresses) {
        expect(await failure(new StandinClient(a).health(silenceMs))).not.toBe('answered');
      }
    });

    it('a node that never becomes healthy fails the start, naming it, and leaves nothing', async () => {
      // The stand-in's n2 comes up, but this recipe never calls it healthy.
      const opts = clusterOptions('sick', {
        startTimeoutMs: 1500,
        recipe: {
          ...recipe,
          healthy: async (address) => {
            try {
              return (await new StandinClient(address).health(500)).id !== 'n2';
            } catch {
              return false;
            }
          },
        },
      });
      const started = await backend.createCluster(opts).then(
        (c) => c,
        (e: unknown) => e,
      );
      if (!(started instanceof Error)) await (started as Cluster).teardown();
      expect(started).toBeInstanceOf(Error);
      expect(String(started)).toMatch(/\bn2\b/);
      expect(await options.leftovers(opts.runId)).toEqual([]);
    });
  });
}
