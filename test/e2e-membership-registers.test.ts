import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resultsRoot, summaryOf, verdictOf } from './e2e-run.js';
import { replaceMembers, underMembership } from './membership-runs.js';

/**
 * CASPaxos registers of the leaderless store across runtime joins and leaves: seeded runs of the
 * register and kv workloads under membership changes, partitions and kills must stay
 * linearizable, and registers whose acceptors are all replaced are lost only when the register
 * hand-off is skipped.
 */
const { out, cleanup } = resultsRoot();
afterAll(cleanup);

describe('end to end: CASPaxos registers across joins and leaves, with partitions and kills', () => {
  // The acceptor sets of the moving keys change phase by phase with each join and leave
  // (the store's register hand-off); the histories must stay linearizable.
  it.each([
    ['register', 'local'],
    ['kv', 'local'],
    ['register', 'docker'],
    ['kv', 'docker'],
  ] as const)(
    '%s on %s: linearizable',
    async (workload, backend) => {
      const r = await underMembership(out, {
        name: `e2e-membership-${workload}-${backend}`,
        backend,
        workload: { name: workload, options: workload === 'kv' ? { activeKeys: 3 } : { keys: 3 } },
        settings: { fsync: 'always' },
      });
      const starts = r.events.filter((e) => e.process === 'nemesis' && e.f === 'membership-start');
      expect(starts.length).toBeGreaterThan(0);
      const lin = r.results.checkers.linearizability as { valid?: unknown; model?: string };
      expect(lin.valid, summaryOf(r, 'linearizability').join('\n')).toBe(true);
      expect(r.outcome.verdict, r.outcome.reasons.join('; ')).toBe('valid');
      expect(r.ops.filter((o) => o.status === 'ok' && o.f !== 'read').length).toBeGreaterThan(50);
      // A change that completed moved the registers: the moving node logged every phase.
      const moved = starts.map((e) => (e.value as { node: string }).node);
      const logs = moved.map((n) =>
        readFileSync(join(r.outcome.dir, 'nodes', n, 'stdout.log'), 'utf8'),
      );
      expect(logs.some((l) => /register hand-off: phase 4\/4 installed/.test(l))).toBe(true);
    },
    240_000,
  );
});

describe('end to end: registers when members are taken out and added back (N = 2)', () => {
  // Many keys at a low rate: a key sits untouched across several changes, so a register whose
  // acceptors were all replaced without its value reads as absent or old.
  const registers = { name: 'register', options: { keys: 40 } };

  it('with the register hand-off: linearizable', async () => {
    const r = await replaceMembers(out, 'on', registers, 20);
    expect(r.events.filter((e) => e.f === 'membership-start').length).toBeGreaterThan(2);
    expect(verdictOf(r, 'linearizability'), summaryOf(r, 'linearizability').join('\n')).toBe(true);
  }, 240_000);

  it('with --handoff-streaming off (unsafe, no register hand-off either): not linearizable', async () => {
    const r = await replaceMembers(out, 'off', registers, 20);
    expect(verdictOf(r, 'linearizability')).toBe(false);
    expect(r.outcome.valid).toBe(false);
  }, 240_000);
});
