import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTest as runUserTest } from '../../../api/index.js';
import { defaultRunDeps } from '../../../api/registries.js';
import { createDockerBackend } from '../../../backends/docker/docker-backend.js';
import { connectDocker } from '../../../backends/docker/engine.js';
import { describeObjectsOfRun } from '../../../backends/docker/labels.js';
import { readJsonlHistory } from '../../../checker/history/jsonl.js';
import { readResults } from '../../../checker/results.js';
import { HttpJsonClient } from '../../../core/http-json.js';
import { runTest } from '../../../harness/runner.js';
import { parseSpec, resolveSpec } from '../../../harness/spec.js';
import { cutOffReads, faultWindow, readRun } from '../../../test/run-history.js';
import { ETCD_BINARY, etcd, etcdSystem } from '../system.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-e2e-etcd-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('end to end: register workload on etcd 3.4, docker backend', () => {
  it('runs partitions and kills to a valid verdict, leaving no container or network', async () => {
    expect(existsSync(ETCD_BINARY), 'install etcd first: sh scripts/ensure-etcd.sh').toBe(true);
    const docker = await connectDocker();
    // etcd's ranges are linearizable by default (read index through the leader) and a txn's
    // compare-and-put is applied in Raft order, so through partitions and kills the one verdict
    // the run may have is valid; the client records every write it cannot vouch for as info.
    const spec = resolveSpec(
      parseSpec({
        name: 'e2e-etcd-docker',
        system: 'etcd',
        backend: 'docker',
        nodes: 3,
        workload: { name: 'register', options: { keys: 2 } },
        nemesis: { faults: ['partition', 'kill'], interval: 1.5 },
        concurrency: 4,
        rate: 100,
        timeLimit: 10,
        recovery: 2,
        opTimeout: 2,
        seed: 23,
        out,
      }),
      () => 0,
    );
    const r = await runTest(spec, defaultRunDeps());

    const results = await readResults(join(r.dir, 'results.json'));
    const lin = results.checkers.linearizability;
    expect(lin?.valid, JSON.stringify(lin).slice(0, 2000)).toBe(true);
    expect(r.valid, JSON.stringify(results).slice(0, 2000)).toBe(true);
    expect(results.ops).toBeGreaterThan(50);

    const test = JSON.parse(readFileSync(join(r.dir, 'test.json'), 'utf8'));
    expect(test).toMatchObject({ seed: 23, status: 'complete' });
    const { events, warnings } = await readJsonlHistory(join(r.dir, 'history.jsonl'));
    expect(warnings).toEqual([]);
    const nemesis = events.filter((e) => e.process === 'nemesis');
    const fs = new Set(nemesis.map((e) => e.f));
    for (const f of ['partition-start', 'partition-stop', 'kill', 'start']) {
      expect(fs.has(f), f).toBe(true);
    }
    expect(nemesis.filter((e) => (e as { error?: string }).error !== undefined)).toEqual([]);
    // Some of each op succeeded: cas through the txn, reads through the range.
    const oks = events.filter((e) => e.type === 'ok' && e.process !== 'nemesis');
    for (const f of ['read', 'write', 'cas']) {
      expect(
        oks.some((e) => e.f === f),
        f,
      ).toBe(true);
    }
    expect(await describeObjectsOfRun(docker, test.runId)).toEqual([]);
  }, 90_000);

  it('kv workload (many keys, each checked on its own) through partitions and kills: valid', async () => {
    // The same register client on many keys: each key is an etcd key, linearizable on its own.
    const spec = resolveSpec(
      parseSpec({
        name: 'e2e-etcd-kv-docker',
        system: 'etcd',
        backend: 'docker',
        nodes: 3,
        workload: 'kv',
        nemesis: { faults: ['partition', 'kill'], interval: 1.5 },
        concurrency: 4,
        rate: 100,
        timeLimit: 10,
        recovery: 2,
        opTimeout: 2,
        seed: 31,
        out,
      }),
      () => 0,
    );
    const r = await runTest(spec, defaultRunDeps());
    const results = await readResults(join(r.dir, 'results.json'));
    expect(r.verdict, JSON.stringify(results).slice(0, 2000)).toBe('valid');
  }, 90_000);

  it('serializable reads: a member cut off from the majority answers reads from its own, stale, state', async () => {
    // n3 is cut off both ways for 5 s while the workers of n1 and n2 keep writing one key.
    // A serializable range is served by the member asked, without Raft: n3 answers reads during
    // the cut (a linearizable read there would wait for a leader and time out). Any such read
    // invoked after a write that began after the cut and completed ok through n1/n2 cannot have
    // seen that write (nothing reaches n3), so it is stale, and the checker must find it.
    const r = await runUserTest({
      name: 'e2e-etcd-serializable-docker',
      system: etcdSystem({ reads: 'serializable' }),
      backend: 'docker',
      nodes: 3,
      workload: { name: 'register', options: { keys: 1 } },
      nemesis: {
        faults: ['partition'],
        topologies: ['custom'],
        grudge: { n1: ['n3'], n2: ['n3'], n3: ['n1', 'n2'] },
        initialQuiet: 2,
        faultDuration: [5, 5],
        quiet: [1, 1],
      },
      concurrency: 6,
      rate: 150,
      timeLimit: 9,
      recovery: 1,
      opTimeout: 2,
      seed: 3,
      out,
    });
    const run = await readRun(r.dir);
    const { reads, stale } = cutOffReads(run.ops, 'n3', faultWindow(run));
    expect(reads.length, 'reads served by n3 while it was cut off').toBeGreaterThan(0);
    expect(stale.length, 'n3 reads invoked after a write committed without n3').toBeGreaterThan(0);
    expect(r.verdict, r.reasons.join('; ')).toBe('invalid');
  }, 90_000);

  it('kills aimed at the leader hit the member etcd names as leader at that moment', async () => {
    // The built-in etcd, its leader hook watched: each answer is checked against etcd's own word
    // (the member named says, in its status, that it is the leader) and kept with its time.
    const base = etcdSystem();
    const answers: { at: number; leader: string | undefined; confirmed: boolean }[] = [];
    const system = {
      ...base,
      async leader(view: Parameters<NonNullable<typeof base.leader>>[0]) {
        const leader = await base.leader?.(view);
        let confirmed = false;
        if (leader !== undefined) {
          const c = new HttpJsonClient(view.clientAddress(leader));
          try {
            const st = (await c.call('POST', '/v3/maintenance/status', {}, view.signal)) as {
              header: { member_id: string };
              leader: string;
            };
            confirmed = st.leader === st.header.member_id;
          } catch {
            // Not confirmed.
          } finally {
            c.close();
          }
        }
        answers.push({ at: Date.now(), leader, confirmed });
        return leader;
      },
    };
    const r = await runUserTest({
      name: 'e2e-etcd-leader-kills-docker',
      system,
      backend: 'docker',
      nodes: 3,
      workload: { name: 'register', options: { keys: 2 } },
      // Each kill waits for a leader for half its window (1.5 s), and the quiet between kills
      // leaves room for the restarted member and an election on a loaded machine.
      nemesis: {
        faults: ['kill'],
        targets: ['leader'],
        initialQuiet: 3,
        faultDuration: [3, 3],
        quiet: [4, 4],
      },
      concurrency: 4,
      rate: 100,
      timeLimit: 18,
      recovery: 2,
      opTimeout: 2,
      seed: 41,
      out,
    });
    const { events } = await readJsonlHistory(join(r.dir, 'history.jsonl'));
    const nemesis = events.filter((e) => e.process === 'nemesis') as (Record<string, unknown> & {
      f: string;
    })[];
    const kills = nemesis.filter((e) => e.f === 'kill');
    const starts = nemesis.filter((e) => e.f === 'start' && typeof e.fault === 'number');
    // Two faults planned (at 3 and 10 s; a third, at 17 s, would end past the 18 s limit).
    expect(kills.length).toBe(2);
    expect(kills.filter((k) => k.error !== undefined)).toEqual([]);
    for (const k of kills) {
      // One node, the one the hook last named before the kill, which etcd confirmed leads.
      expect(k.value).toHaveLength(1);
      const named = (k.value as string[])[0];
      const stop = starts.find((s) => s.fault === k.fault);
      expect(stop?.value, 'the stop restarts exactly the node killed').toEqual(k.value);
      expect(named).toBeDefined();
    }
    // Each kill hit the node that led at that fault's start. The hook is asked by the nemesis
    // and by the run's leader observer alike, so the check reads the history: the last leader
    // the observer recorded before each kill (the leader is stable through each quiet window,
    // polled every 500 ms) is the node killed; and etcd confirmed each one: that member's own
    // status said it was the leader.
    const hit = kills.map((k) => (k.value as string[])[0]);
    const observed = events.filter((e) => e.process === 'observer' && e.f === 'leader');
    for (const k of kills) {
      const before = observed.filter((o) => o.index < (k.index as number)).at(-1);
      expect(before?.value, `the leader observed before the kill at #${k.index}`).toEqual(
        (k.value as string[])[0],
      );
    }
    for (const h of hit) {
      expect(
        answers.some((a) => a.leader === h && a.confirmed),
        `${h} confirmed as leader by its own status: ${JSON.stringify(answers)}`,
      ).toBe(true);
    }
    // The leader changes: once the first is killed, another member wins the election, and the
    // next fault aims at whoever leads then.
    expect(new Set(hit).size, `leaders hit: ${hit.join(', ')}`).toBeGreaterThan(1);
    // etcd stays linearizable through leader kills (reads and cas go through Raft; writes it
    // cannot vouch for are info): the checker finds the history linearizable, every planned
    // fault was carried out (the audit is silent), so the verdict is valid with no reason given.
    const results = await readResults(join(r.dir, 'results.json'));
    expect(results.checkers.linearizability?.valid).toBe(true);
    expect(r.reasons).toEqual([]);
    expect(r.verdict).toBe('valid');
  }, 90_000);

  it('the leader hook names the leader, and another one once it is killed', async () => {
    const nodes = ['n1', 'n2', 'n3'];
    const cluster = await createDockerBackend().createCluster({
      runId: `etcd-leader-${Date.now().toString(36)}`,
      recipe: etcd.recipe(),
      nodes,
      settings: {},
      logsDir: join(out, 'leader-logs'),
      startTimeoutMs: 30_000,
    });
    try {
      const view = {
        nodes,
        clientAddress: (n: string) => cluster.clientAddress(n),
        signal: AbortSignal.timeout(30_000),
      };
      // Healthy means every member knows a leader: the hook finds it at once.
      const first = await etcd.leader?.(view);
      expect(nodes).toContain(first);
      // etcd's own word: the member named says it is the leader.
      const own = new HttpJsonClient(cluster.clientAddress(first as string));
      const status = (await own.call('POST', '/v3/maintenance/status', {})) as {
        header: { member_id: string };
        leader: string;
      };
      own.close();
      expect(status.leader).toBe(status.header.member_id);
      await cluster.kill(first as string);
      let next: string | undefined;
      for (let i = 0; i < 100 && (next === undefined || next === first); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        next = await etcd.leader?.(view);
      }
      expect(nodes.filter((n) => n !== first)).toContain(next);
    } finally {
      await cluster.teardown();
    }
  }, 60_000);
});
