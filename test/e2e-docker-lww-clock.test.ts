import { afterAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../backends/docker/engine.js';
import { describeObjectsOfRun } from '../backends/docker/labels.js';
import type { ConvergenceResult } from '../checker/convergence.js';
import { e2eRun, resultsRoot, summaryOf, verdictOf } from './e2e-run.js';

/**
 * A planted, real weakness on the docker backend: the leaderless store in `lww` mode orders a
 * key's versions by the coordinator's wall clock, so a clock fault loses acknowledged writes
 * (its README says so). This must be reported in every run, with the clock-skew signature.
 *
 * Why the settings make the loss certain (not likely):
 * - Seed 6 plans exactly one fault: from 2 s to 6 s of the 12 s main phase, n1's clock runs
 *   +90 s ahead (libfaketime; `clockOffsetMs` 100 000 draws ±[50, 100] s, the seed gives +89 990
 *   ms, asserted below). Then it is reset, and no clock moves again.
 * - Two hot keys and no key rotation (`opsPerKey` larger than the run): the keys written during
 *   the fault are the keys written after it. Six workers bound to the three nodes (two each) at
 *   100 ops/s, half writes: n1 coordinates ~65 writes to these two keys during those 4 s.
 * - So each key's greatest timestamp belongs to a write n1 coordinated during the fault, stamped
 *   ~90 s in the future. Every write invoked after it completed (the rest of the fault on n2 and
 *   n3, and the whole last 6 s on every node, n1 included once reset) is stamped by a correct
 *   clock, at most the real time, which stays below that winner's stamp for the whole run
 *   (the run takes well under 90 s). Those writes are acknowledged and then lost to a write that
 *   completed before they were invoked: the checker's lww rule reports exactly these (about 300
 *   per run here, of about 600 acknowledged writes). A clock set *behind* would not make this certain: the checker
 *   can only prove the loss of the skewed node's writes that came after the other nodes' last
 *   write of a key, which depends on how the tail of the run happens to interleave.
 * - Nothing else moves a clock, so the winner can be checked independently of the checker: its
 *   stamp exceeds the real time at the end of the test (no correct clock ever stamped that), and
 *   every lost write was coordinated by a correct clock (not n1 while skewed), so the winner's
 *   stamp is the higher one although it completed first.
 */
const { out, cleanup } = resultsRoot();
afterAll(cleanup);

const SKEWED = 'n1';
const CONCURRENCY = 6;

describe('end to end on docker: lww with clock faults loses acknowledged writes', () => {
  it('eventual-kv with one clock running 90 s ahead: lost writes with the clock-skew signature', async () => {
    const docker = await connectDocker();
    const startedAt = Date.now();
    const r = await e2eRun({
      name: 'e2e-docker-lww-clock',
      backend: 'docker',
      // eventual-kv reads every replica of every key: nodes must equal the store's n (3).
      nodes: 3,
      settings: { conflict: 'lww' },
      workload: {
        name: 'eventual-kv',
        // The linearizability checker gets a short budget: its verdict is not what this test
        // is about (the history is not linearizable, and hot keys make its search long).
        options: { activeKeys: 2, opsPerKey: 100_000, checkTimeout: 5 },
      },
      nemesis: {
        faults: ['clock'],
        targets: ['one'],
        initialQuiet: 2,
        faultDuration: [4, 4],
        quiet: [20, 20],
        clockOffsetMs: 100_000,
      },
      concurrency: CONCURRENCY,
      rate: 100,
      timeLimit: 12,
      recovery: 1,
      opTimeout: 2,
      seed: 6,
      out,
    });
    const endedAt = Date.now();

    // The plan: one clock fault, n1 far ahead, from 2 s to 6 s.
    const entries = r.test.plan.entries as unknown as Array<{
      startMs: number;
      durationMs: number;
      fault: { kind: string; offsets?: Record<string, number> };
    }>;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ startMs: 2000, durationMs: 4000 });
    expect(entries[0]!.fault).toEqual({
      kind: 'clock',
      target: 'one',
      offsets: { [SKEWED]: 89_990 },
    });
    const offsetMs = entries[0]!.fault.offsets![SKEWED]!;
    // The run took far less than the skew: every correct clock stayed below the skewed stamps.
    expect(endedAt - startedAt).toBeLessThan(offsetMs);

    // The nemesis carried it out and reset the clock, without a backend error. Each event is
    // recorded once the change is made: the clock moved between `startedTime` and `time`.
    const nemesis = r.events.filter((e) => e.process === 'nemesis');
    expect(nemesis.map((e) => e.f)).toEqual([
      'clock-offset',
      'clock-reset',
      'heal-all-start',
      'heal-all-stop',
    ]);
    expect(nemesis.filter((e) => (e as { error?: unknown }).error !== undefined)).toEqual([]);
    const [offsetEvent, resetEvent] = nemesis;
    const startedTimeOf = (e: (typeof nemesis)[number] | undefined): number => {
      const t = e?.startedTime;
      if (typeof t !== 'number') throw new Error(`${e?.f}: no startedTime`);
      return t;
    };
    const skewedFrom = startedTimeOf(offsetEvent);
    const skewedUntil = resetEvent!.time;
    const resetFrom = startedTimeOf(resetEvent);

    // Verdicts: convergence false (lost writes), so the run's verdict is false.
    expect(verdictOf(r, 'convergence')).toBe(false);
    expect(r.outcome.valid).toBe(false);
    expect(r.results.valid).toBe(false);
    const conv = r.results.checkers.convergence as unknown as ConvergenceResult;
    expect(conv.type).toBe('lww');
    expect(conv.source).toBe('replica-read');
    expect(conv.missingReplicas).toEqual([]);
    expect(conv.unexpected).toEqual([]);

    const writes = r.ops.filter((o) => o.f === 'write');
    const acked = writes.filter((o) => o.status === 'ok');
    expect(acked.length).toBeGreaterThan(200);
    expect(conv.lostCount).toBeGreaterThan(50);
    expect(conv.lost.length).toBe(Math.min(conv.lostCount, 1000));

    const byIndex = new Map(writes.map((o) => [o.invoke.index, o]));
    // Which node coordinated a write: ops do not record it, but the runner binds worker t to
    // node t mod 3 for the whole run, and process p always runs on worker p mod concurrency.
    const nodeOf = (index: number) => {
      const p = byIndex.get(index)?.process;
      return typeof p === 'number' ? `n${((p % CONCURRENCY) % 3) + 1}` : undefined;
    };
    for (const l of conv.lost) {
      const w = l.winner;
      expect(w, `lost ${JSON.stringify(l.value)} has a winner`).not.toBeNull();
      // The checker's signature: the winner completed before the lost write was invoked...
      expect(l.winnerOlderInRealTime).toBe(true);
      expect(w!.completedAtMs).not.toBeNull();
      expect(w!.completedAtMs!).toBeLessThan(l.invokedAtMs);
      // ...yet carries the higher timestamp. (The store reports a write's timestamp in its
      // answer; a store that does not leaves the lost write's own `ts` unknown.)
      expect(w!.ts).toBeDefined();
      if (l.ts !== undefined) {
        expect(l.timestampsInverted).toBe(true);
        expect(l.ts).toBeLessThan(w!.ts!);
        expect(l.ts).toBeLessThanOrEqual(endedAt);
      } else expect(l.timestampsInverted).toBeNull();

      // Independently of the checker: the winner is a write n1 coordinated while its clock was
      // ahead (stamped after the offset was set and before the reset), with a stamp later than
      // any correct clock read during this test...
      const winner = byIndex.get(w!.index)!;
      expect(winner.status).toBe('ok');
      expect(nodeOf(w!.index)).toBe(SKEWED);
      expect(winner.return).toBeGreaterThan(skewedFrom);
      expect(winner.call).toBeLessThan(skewedUntil);
      expect(w!.ts!).toBeGreaterThan(endedAt);
      // ...while the lost write was stamped by a correct clock: another node's, or n1's after
      // the reset (n1 stamping it while still ahead would have stamped it above the winner, which
      // it stamped earlier with the same clock), so at most the real time, below the winner's.
      const lost = byIndex.get(l.index)!;
      expect(lost.status).toBe('ok');
      if (nodeOf(l.index) === SKEWED) expect(lost.return).toBeGreaterThan(resetFrom);
    }

    // The summary names the loss and the signature in a sentence.
    const summary = summaryOf(r, 'convergence').join('\n');
    expect(summary).toMatch(
      /acknowledged writes lost on key e\d+: .* lost to .*, written .* earlier in real time.*: the clock-skew signature/,
    );

    // Nothing left behind: no container or network of this run, by label or by name.
    expect(await describeObjectsOfRun(docker, r.test.runId)).toEqual([]);
    const names = [
      ...(await docker.listContainers({ all: true })).flatMap((c) => c.Names),
      ...(await docker.listNetworks()).map((n) => n.Name),
    ];
    expect(names.filter((n) => n.includes(r.test.runId))).toEqual([]);
  }, 120_000);
});
