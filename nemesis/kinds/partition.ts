import { z } from 'zod';
import { defineFaultKind } from '../../core/nemesis.js';
import {
  BUILTIN_TOPOLOGIES,
  customGrudge,
  isolateNode,
  partitionGrudge,
  TOPOLOGIES,
} from '../topology.js';
import { leaderNeed } from './shared.js';

/** node → the nodes whose traffic it drops (see core/cluster.ts). */
export const GrudgeSchema = z.record(z.string().min(1), z.array(z.string().min(1)));

/** A network partition, as a grudge drawn from one of the spec's topologies. */
export const partition = defineFaultKind({
  name: 'partition',
  settings: {
    topologies: z
      .array(z.enum(TOPOLOGIES))
      .min(1)
      .default([...BUILTIN_TOPOLOGIES]),
    /** The grudge of the `custom` topology. */
    grudge: GrudgeSchema.optional(),
  },
  settingsProblems: (s) =>
    s.topologies.includes('custom') && s.grudge === undefined
      ? [{ path: 'grudge', message: 'the custom topology needs a grudge (node → nodes it drops)' }]
      : [],
  checkNodes(s, nodes) {
    // Refuse unknown nodes now, not mid-run.
    if (s.grudge !== undefined && s.topologies.includes('custom')) customGrudge(nodes, s.grudge);
  },
  fault: { topology: z.enum(TOPOLOGIES), grudge: GrudgeSchema },
  needsWith: (s) =>
    s.topologies.includes('isolate-leader')
      ? [leaderNeed('partitions that isolate the leader (topology: isolate-leader)')]
      : [],
  capabilities: () => ['partition'],
  plan(s, nodes, rng) {
    const topology = rng.pick(s.topologies);
    return { topology, grudge: partitionGrudge(topology, nodes, rng, s.grudge) };
  },
  describe: (f) =>
    `partition ${f.topology} ${Object.entries(f.grudge)
      .map(([a, d]) => `${a}✕${d.join('+')}`)
      .join(' ')}`.trim(),
  // isolate-leader: the leader cut off from every other node, whoever leads at the start.
  resolve: async (f, context) =>
    f.topology === 'isolate-leader'
      ? { ...f, grudge: isolateNode(context.nodes, await context.leader()) }
      : f,
  start: (f) => ({ value: f.grudge, act: (cluster) => cluster.partition(f.grudge) }),
  stop: (f) => ({ value: f.grudge, act: (cluster) => cluster.heal() }),
  events: { open: 'partition-start', close: 'partition-stop' },
  style: { label: 'partition', colour: '#9bb8ff' },
});
