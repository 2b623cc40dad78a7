import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plannedKinds, resultsRoot, summaryOf, verdictOf } from './e2e-run.js';
import { replaceMembers as replaceIn, underMembership as underIn } from './membership-runs.js';

/**
 * Runtime membership of the leaderless store under the harness: a seeded run on the local
 * backend grows the 3-node cluster to 4 and shrinks it back (membership faults, through the
 * store's admin API and range hand-off) while partitions and kills go on; the OR-set loses no
 * acknowledged add and every replica converges (registers: e2e-membership-registers.test.ts).
 */
const { out, cleanup } = resultsRoot();
afterAll(cleanup);

const underMembership = (o: Parameters<typeof underIn>[1]) => underIn(out, o);
const replaceMembers = (streaming: 'on' | 'off') => replaceIn(out, streaming);

describe('end to end: join and leave at runtime with partitions and kills', () => {
  it.each(['local', 'docker'] as const)(
    'set on %s: nothing acknowledged is lost across joins and leaves',
    async (backend) => {
      const r = await underMembership({
        name: `e2e-membership-set-${backend}`,
        backend,
        workload: { name: 'set', options: { mix: { add: 3, remove: 1, read: 1 } } },
      });
      expect(plannedKinds(r)).toContain('membership');
      const nemesis = r.events.filter((e) => e.process === 'nemesis') as (Record<
        string,
        unknown
      > & {
        f: string;
      })[];
      expect(nemesis.filter((e) => e.error !== undefined)).toEqual([]);
      const changes = nemesis.filter((e) => e.f === 'membership-start');
      expect(changes.length).toBeGreaterThan(0);
      for (const c of changes) {
        const stop = nemesis.find((e) => e.f === 'membership-stop' && e.fault === c.fault);
        expect(stop?.value).toEqual(c.value);
        const { change, node } = c.value as { change: string; node: string };
        // The node's own log: it joined (its ranges streamed in) and left (handed them off).
        const log = readFileSync(join(r.outcome.dir, 'nodes', node, 'stdout.log'), 'utf8');
        // (a shrunk node rejoins at the fault's stop: its streaming may outlast the run)
        if (change === 'grow') expect(log).toMatch(/ joined \(version \d+\): \d+ records streamed/);
        expect(log).toMatch(/ left \(version \d+\): \d+ records streamed/);
      }
      expect(verdictOf(r, 'set-full'), summaryOf(r, 'set-full').join('\n')).toBe(true);
      expect(verdictOf(r, 'convergence'), summaryOf(r, 'convergence').join('\n')).toBe(true);
      expect(r.outcome.valid).toBe(true);
      expect(r.ops.filter((o) => o.f === 'add' && o.status === 'ok').length).toBeGreaterThan(200);
    },
    240_000,
  );
});

describe('end to end: eventual kv and counter across joins and leaves', () => {
  it.each(['local', 'docker'] as const)(
    'eventual-kv with siblings on %s: converges, no acknowledged write lost',
    async (backend) => {
      // Not linearizable by design: convergence with no lost write is the safe claim.
      const r = await underMembership({
        name: `e2e-membership-eventual-kv-${backend}`,
        backend,
        workload: { name: 'eventual-kv', options: {} },
        settings: { conflict: 'siblings' },
      });
      expect(verdictOf(r, 'convergence'), summaryOf(r, 'convergence').join('\n')).toBe(true);
      const conv = r.results.checkers.convergence as { lostCount?: number };
      expect(conv.lostCount).toBe(0);
      expect(r.events.some((e) => e.f === 'membership-start')).toBe(true);
    },
    240_000,
  );

  it('counter on local: every acknowledged increment counted, replicas agree', async () => {
    const r = await underMembership({
      name: 'e2e-membership-counter',
      workload: { name: 'counter', options: {} },
    });
    expect(r.events.some((e) => e.f === 'membership-start')).toBe(true);
    expect(r.outcome.verdict, r.outcome.reasons.join('; ')).toBe('valid');
  }, 240_000);
});

describe('end to end: members taken out and added back (N = 2, no anti-entropy)', () => {
  it('with hand-off streaming: no acknowledged add is lost', async () => {
    const r = await replaceMembers('on');
    const shrinks = r.events.filter(
      (e) =>
        e.process === 'nemesis' &&
        e.f === 'membership-start' &&
        (e.value as { change?: string }).change === 'shrink',
    );
    expect(shrinks.length).toBeGreaterThan(2);
    expect(verdictOf(r, 'set-full'), summaryOf(r, 'set-full').join('\n')).toBe(true);
  }, 240_000);

  it('with --handoff-streaming off (unsafe): the checker finds acknowledged adds lost', async () => {
    const r = await replaceMembers('off');
    expect(verdictOf(r, 'set-full')).toBe(false);
    expect(summaryOf(r, 'set-full').join('\n')).toMatch(/\d+ acknowledged adds lost/);
    expect(r.outcome.valid).toBe(false);
  }, 240_000);
});
