import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../core/cluster.js';
import type { MembershipIO } from '../../core/nemesis.js';
import { Rng } from '../../core/random.js';
import { membership } from './membership.js';

/** Members and pool as plain sets; joins and leaves are written down. */
function fakeMembership(members: string[], spares: string[], minMembers = 2) {
  const calls: string[] = [];
  const m = new Set(members);
  const pool = [...members, ...spares];
  const io: MembershipIO = {
    members: () => pool.filter((n) => m.has(n)),
    spares: () => pool.filter((n) => !m.has(n)),
    minMembers,
    async join(node) {
      calls.push(`join ${node}`);
      m.add(node);
    },
    async leave(node) {
      calls.push(`leave ${node}`);
      m.delete(node);
    },
  };
  return { io, calls };
}

const noLeader = async (): Promise<string> => {
  throw new Error('no leader');
};
const cluster = {} as Cluster;

describe('the membership fault', () => {
  it('plans a change and a draw only: the node is chosen when it starts', () => {
    const f = membership.plan({}, ['n1', 'n2', 'n3'], new Rng(7));
    expect(['grow', 'shrink']).toContain(f.change);
    expect(f.node).toBeUndefined();
  });

  it('grows by a node of the pool and its stop takes that node out again', async () => {
    const { io, calls } = fakeMembership(['n1', 'n2', 'n3'], ['n4', 'n5']);
    const ctx = { nodes: ['n1', 'n2', 'n3'], leader: noLeader, membership: io };
    const f = await membership.resolve!({ kind: 'membership', change: 'grow', pick: 3 }, ctx);
    expect(f).toMatchObject({ change: 'grow', node: 'n5' });
    await membership.start(f).act(cluster, { membership: io });
    expect(io.members()).toEqual(['n1', 'n2', 'n3', 'n5']);
    await membership.stop(f).act(cluster, { membership: io });
    expect(calls).toEqual(['join n5', 'leave n5']);
  });

  it('shrinks by a member and its stop brings that node back', async () => {
    const { io, calls } = fakeMembership(['n1', 'n2', 'n3'], []);
    const ctx = { nodes: ['n1', 'n2', 'n3'], leader: noLeader, membership: io };
    // Planned to grow, but there is no pool: it shrinks instead.
    const f = await membership.resolve!({ kind: 'membership', change: 'grow', pick: 1 }, ctx);
    expect(f).toMatchObject({ change: 'shrink', node: 'n2' });
    expect(membership.start(f).value).toEqual({ change: 'shrink', node: 'n2' });
    await membership.start(f).act(cluster, { membership: io });
    await membership.stop(f).act(cluster, { membership: io });
    expect(calls).toEqual(['leave n2', 'join n2']);
  });

  it('never shrinks below the minimum, and says why when no change is possible', async () => {
    const { io } = fakeMembership(['n1', 'n2'], [], 2);
    const ctx = { nodes: ['n1', 'n2'], leader: noLeader, membership: io };
    await expect(
      membership.resolve!({ kind: 'membership', change: 'shrink', pick: 0 }, ctx),
    ).rejects.toThrow(/keeps at least 2.*--max-nodes/);
    const grown = fakeMembership(['n1', 'n2'], ['n3'], 2);
    const f = await membership.resolve!(
      { kind: 'membership', change: 'shrink', pick: 0 },
      { ...ctx, membership: grown.io },
    );
    expect(f).toMatchObject({ change: 'grow', node: 'n3' });
  });

  it('a stop after a start that failed undoes nothing', async () => {
    const { io, calls } = fakeMembership(['n1', 'n2', 'n3'], ['n4']);
    const failing: MembershipIO = {
      ...io,
      join: async () => {
        throw new Error('refused');
      },
    };
    const f = { kind: 'membership' as const, change: 'grow' as const, pick: 0, node: 'n4' };
    await expect(membership.start(f).act(cluster, { membership: failing })).rejects.toThrow();
    await membership.stop(f).act(cluster, { membership: io });
    expect(calls).toEqual([]);
  });

  it('is refused by a system without membership hooks', async () => {
    const f = { kind: 'membership' as const, change: 'grow' as const, pick: 0, node: 'n4' };
    await expect(membership.start(f).act(cluster, {})).rejects.toThrow(/no membership hooks/);
    expect(membership.needs?.lacking).toMatch(/membership hooks/);
  });
});
