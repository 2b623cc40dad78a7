import { z } from 'zod';
import type { Capability, LinkFault } from '../../core/cluster.js';
import { defineFaultKind } from '../../core/nemesis.js';
import {
  nodesText,
  onEachNode,
  startNodes,
  TARGETS,
  targetNodes,
  targetsNeed,
  targetsSetting,
} from './shared.js';

export const LinkFaultSchema = z.strictObject({
  delayMs: z.number().min(0).optional(),
  jitterMs: z.number().min(0).optional(),
  loss: z.number().min(0).max(1).optional(),
  /** Bandwidth limit on traffic leaving each target node, kbit/s (backends with 'link-bandwidth'). */
  rateKbit: z
    .number('expected a bandwidth limit in kbit/s (a number)')
    .min(8, 'expected a bandwidth limit of at least 8 kbit/s')
    .max(10_000_000, 'expected a bandwidth limit of at most 10000000 kbit/s (10 Gbit/s)')
    .optional(),
});

/** The link fault with only the fields that are set (the backends' LinkFault has no undefineds). */
function linkOf(fault: z.output<typeof LinkFaultSchema>): LinkFault {
  const l: LinkFault = {};
  if (fault.delayMs !== undefined) l.delayMs = fault.delayMs;
  if (fault.jitterMs !== undefined) l.jitterMs = fault.jitterMs;
  if (fault.loss !== undefined) l.loss = fault.loss;
  if (fault.rateKbit !== undefined) l.rateKbit = fault.rateKbit;
  return l;
}

/** Delay, jitter, loss or a bandwidth limit on the traffic leaving the target nodes. */
export const link = defineFaultKind({
  name: 'link',
  settings: {
    targets: targetsSetting,
    /** What a `link` fault does to the traffic leaving each target node. */
    link: LinkFaultSchema.default({ delayMs: 100, jitterMs: 100, loss: 0 }),
  },
  fault: { target: z.enum(TARGETS), nodes: z.array(z.string()), link: LinkFaultSchema },
  needsWith: targetsNeed,
  capabilities(s) {
    const need: Capability[] = [];
    if ((s.link.delayMs ?? 0) > 0 || (s.link.jitterMs ?? 0) > 0) need.push('link-delay');
    if ((s.link.loss ?? 0) > 0) need.push('link-loss');
    if (s.link.rateKbit !== undefined) need.push('link-bandwidth');
    return need;
  },
  plan(s, nodes, rng) {
    const target = rng.pick(s.targets);
    return { target, nodes: targetNodes(target, nodes, rng), link: { ...s.link } };
  },
  describe: (f) => {
    const l = f.link;
    const rate = l.rateKbit === undefined ? '' : ` rate ${l.rateKbit}kbit/s`;
    return `link ${nodesText(f)} delay ${l.delayMs ?? 0}±${l.jitterMs ?? 0}ms loss ${l.loss ?? 0}${rate}`;
  },
  resolve: async (f, context) => ({ ...f, nodes: await startNodes(f, context) }),
  start: (f) => {
    const l = linkOf(f.link);
    return {
      value: { nodes: f.nodes, ...l },
      act: (c) => onEachNode(f.nodes, (n) => c.setLink(n, l)),
    };
  },
  stop: (f) => ({ value: f.nodes, act: (c) => onEachNode(f.nodes, (n) => c.setLink(n, {})) }),
  events: { open: 'link-start', close: 'link-stop' },
  style: { label: 'link', colour: '#a8e0d0' },
});
