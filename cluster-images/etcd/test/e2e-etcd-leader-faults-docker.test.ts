import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTest } from '../../../api/index.js';
import { checkLinearizability } from '../../../checker/linearizability.js';
import { readResults } from '../../../checker/results.js';
import { cutOffReads, faultWindow, readRun } from '../../../test/run-history.js';
import { etcdSystem } from '../system.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-e2e-etcd-leader-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A 3-node register run on one key with faults aimed at whoever leads when each fault starts. */
type RunInput = Parameters<typeof runTest>[0];
const leaderRun = (overrides: Partial<RunInput> & Pick<RunInput, 'name' | 'system' | 'seed'>) =>
  runTest({
    backend: 'docker',
    nodes: 3,
    workload: { name: 'register', options: { keys: 1 } },
    concurrency: 6,
    rate: 150,
    timeLimit: 12,
    recovery: 2,
    opTimeout: 2,
    out,
    ...overrides,
  });

describe('etcd read modes under faults aimed at the leader (docker)', () => {
  it('serializable reads, the leader cut off for 5 s: the old leader answers stale reads (invalid)', async () => {
    // isolate-leader cuts whoever leads from both others. The majority elects a new leader
    // after an election timeout (1.5 s, randomised: about 2.5 s in the runs seen) and goes on
    // committing writes; a serializable range is
    // answered by the member asked from what it has applied, so the old leader keeps answering
    // its workers' reads from a state that no longer moves. A read it serves after a majority
    // write completed cannot include that write: stale, so the history is not linearizable.
    const r = await leaderRun({
      name: 'e2e-etcd-serializable-isolated-leader',
      system: etcdSystem({ reads: 'serializable' }),
      nemesis: {
        faults: ['partition'],
        targets: ['leader'],
        topologies: ['isolate-leader'],
        initialQuiet: 2,
        faultDuration: [5, 5],
        quiet: [2.5, 2.5],
      },
      // Three workers per node, and writes at the cut-off leader (which never commit) give up
      // after 1 s: its workers spend most of the cut reading, not waiting on writes.
      concurrency: 9,
      opTimeout: 1,
      seed: 1,
    });
    const run = await readRun(r.dir);
    const window = faultWindow(run);
    expect(window.start.error).toBeUndefined();
    // The grudge cut one node from both others: the node that led when the fault began.
    const grudge = window.start.value as Record<string, string[]>;
    const isolated = Object.keys(grudge).find((n) => grudge[n]?.length === 2) as string;
    const observed = run.events.filter(
      (e) => e.process === 'observer' && e.f === 'leader' && e.index < window.start.index,
    );
    expect(observed.at(-1)?.value, 'the leader observed before the cut').toBe(isolated);

    const { reads, writesElsewhere, stale } = cutOffReads(run.ops, isolated, window);
    expect(reads.length, `reads served by ${isolated} while cut off`).toBeGreaterThan(0);
    expect(writesElsewhere.length, 'writes committed by the new leader').toBeGreaterThan(0);
    expect(stale.length, 'reads by the old leader after a majority write').toBeGreaterThan(0);
    expect(r.verdict, r.reasons.join('; ')).toBe('invalid');
  }, 90_000);

  it('serializable reads, leader kills: writes stay linearizable; any anomaly is a stale read', async () => {
    // What a kill leaves certain: every write and cas goes through Raft, so the history without
    // its reads is linearizable whatever the timing. Reads served locally are another matter:
    // a killed leader answers nothing, but once restarted it replays its log and answers
    // serializable reads from that replay, behind what the cluster has acknowledged (seen with
    // this seed: reads at the restarted member went 857 → 543 → 412 after n1 had read 857).
    // Whether a worker's read lands in that window of milliseconds is timing: of 10 runs of
    // this seed, 6 were valid and 4 invalid. So the test pins the part that is certain: the
    // verdict is decided (never unknown: both kills were carried out), the writes are
    // linearizable on their own, and every operation the checker could not place is a read.
    const r = await leaderRun({
      name: 'e2e-etcd-serializable-leader-kills',
      system: etcdSystem({ reads: 'serializable' }),
      // Each kill waits for a leader for half its window (1.5 s); the quiet between them gives
      // the restarted member and an election time to settle even on a loaded 2-core machine,
      // where one CI run saw no leader in the first 0.8 s of a 2 s window.
      nemesis: {
        faults: ['kill'],
        targets: ['leader'],
        initialQuiet: 3,
        faultDuration: [3, 3],
        quiet: [4, 4],
      },
      timeLimit: 18,
      seed: 1,
    });
    const { ops, nemesis } = await readRun(r.dir);
    const kills = nemesis.filter((e) => e.f === 'kill');
    expect(kills.length).toBeGreaterThanOrEqual(2);
    expect(kills.filter((k) => k.error !== undefined)).toEqual([]);
    const writes = ops.filter((o) => o.f !== 'read');
    const alone = await checkLinearizability(writes, { model: 'kv', workers: 0 });
    expect(alone.valid, 'the writes and cas without the reads').toBe(true);
    const results = await readResults(join(r.dir, 'results.json'));
    const lin = results.checkers.linearizability as {
      valid: unknown;
      partitions?: { evidence?: { stuck?: { description: string }[] } }[];
    };
    if (r.verdict === 'invalid') {
      const stuck = (lin.partitions ?? []).flatMap((p) => p.evidence?.stuck ?? []);
      expect(stuck.length).toBeGreaterThan(0);
      for (const op of stuck) expect(op.description).toMatch(/: read → /);
    } else {
      expect(r.reasons).toEqual([]);
      expect(r.verdict).toBe('valid');
    }
  }, 90_000);

  it('linearizable reads, partitions, kills and pauses aimed at the leader: valid', async () => {
    // The mix of the command. Every read and cas goes through Raft (read index at the
    // leader), so a paused or cut-off leader stops answering instead of answering stale, and
    // writes it cannot vouch for are info: the checker finds the history linearizable and every
    // planned fault was carried out (a fault finding no leader would make the verdict unknown).
    const r = await leaderRun({
      name: 'e2e-etcd-linearizable-leader-mix',
      system: etcdSystem(),
      nemesis: {
        faults: ['partition', 'kill', 'pause'],
        targets: ['leader'],
        topologies: ['isolate-leader'],
        // Room for an election between faults, as in the kill test above. The three faults end
        // by 19 s; the 5 s after them are slack for a nemesis running late on a loaded machine
        // (a kill's restart waits for the member), so the third still starts before the end.
        initialQuiet: 3,
        faultDuration: [3, 3],
        quiet: [3.5, 3.5],
      },
      timeLimit: 24,
      seed: 12,
    });
    const { nemesis } = await readRun(r.dir);
    const fs = new Set(nemesis.map((e) => e.f));
    for (const f of ['partition-start', 'kill', 'pause']) expect(fs.has(f), f).toBe(true);
    expect(r.reasons).toEqual([]);
    expect(r.verdict).toBe('valid');
  }, 90_000);
});
