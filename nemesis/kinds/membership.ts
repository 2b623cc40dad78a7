import { z } from 'zod';
import type { FaultActContext, MembershipIO } from '../../core/nemesis.js';
import { defineFaultKind } from '../../core/nemesis.js';

const CHANGES = ['shrink', 'grow'] as const;
type Change = (typeof CHANGES)[number];

const membershipOf = (context: FaultActContext | { membership?: MembershipIO }): MembershipIO => {
  if (context.membership === undefined) {
    throw new Error('the system has no membership hooks: its membership cannot change');
  }
  return context.membership;
};

/**
 * Which change a fault makes, known at its start: the planned one when it can be made, else the
 * other (grow needs a node of the pool that is not a member; shrink needs more members than the
 * system's minimum); neither: the fault is refused, saying why.
 */
function possibleChange(planned: Change, m: MembershipIO): Change {
  const can = (c: Change) =>
    c === 'grow' ? m.spares().length > 0 : m.members().length > m.minMembers;
  if (can(planned)) return planned;
  const other: Change = planned === 'grow' ? 'shrink' : 'grow';
  if (can(other)) return other;
  throw new Error(
    `no membership change possible: ${m.members().length} members (the system keeps at least ${m.minMembers}) and no node of the pool to add (raise --max-nodes)`,
  );
}

/**
 * A membership change that undoes itself: `shrink` takes a member out (the system's leave hook,
 * then the node is stopped and its data deleted) and the stop brings that node back as a fresh
 * joining member; `grow` adds a node of the pool (`--max-nodes`) and the stop takes it out
 * again. Between the two the cluster runs one node smaller or larger. The planned fault holds
 * the change and a draw; the node is chosen among the members or the pool when the fault starts
 * (membership is state of the running cluster), and the start and stop events name it.
 */
export const membership = defineFaultKind({
  name: 'membership',
  settings: {},
  fault: {
    change: z.enum(CHANGES),
    /** A draw choosing the node among those possible at the start (index modulo their count). */
    pick: z.number().int().min(0),
    /** The node changed, once resolved. */
    node: z.string().optional(),
  },
  needs: {
    feature: 'membership',
    lacking: 'has no membership hooks (it cannot add or remove nodes at runtime)',
  },
  capabilities: () => [],
  plan: (_s, _nodes, rng) => ({ change: rng.pick(CHANGES), pick: rng.int(0, 1_000_000) }),
  describe: (f) =>
    `${f.change === 'grow' ? 'add' : 'remove'} ${f.node ?? (f.change === 'grow' ? 'a node' : 'a member')}`,
  async resolve(f, context) {
    const m = membershipOf(context);
    const change = possibleChange(f.change, m);
    const among = change === 'grow' ? m.spares() : m.members();
    return { ...f, change, node: among[f.pick % among.length] as string };
  },
  start: (f) => ({
    value: { change: f.change, node: f.node },
    act: async (_c, context) => {
      const m = membershipOf(context);
      const node = f.node as string;
      await (f.change === 'grow' ? m.join(node) : m.leave(node));
    },
  }),
  // Undoes only what the start did: after a start that failed, nothing is left to undo.
  stop: (f) => ({
    value: { change: f.change, node: f.node },
    act: async (_c, context) => {
      const m = membershipOf(context);
      const node = f.node as string;
      const member = m.members().includes(node);
      if (f.change === 'grow' && member) await m.leave(node);
      if (f.change === 'shrink' && !member) await m.join(node);
    },
  }),
  events: { open: 'membership-start', close: 'membership-stop' },
  style: { label: 'membership', colour: '#f5c2e7' },
});
