import type { Cluster, NodeId } from '../core/cluster.js';
import { Rng } from '../core/random.js';
import { type NemesisEvent, planFaults, runNemesis } from '../nemesis/index.js';

/**
 * A partition-only plan (a fault every 0.4 s for 6 s, seed 7) run by the nemesis executor on
 * `nodes`; each event with when it was recorded (ns since the start), for lateness figures.
 */
export async function partitionRun(
  cluster: Cluster,
  nodes: readonly NodeId[],
): Promise<(NemesisEvent & { recordedAt: number })[]> {
  const plan = planFaults(
    { faults: ['partition'], interval: 0.4 },
    [...nodes],
    new Rng(7).fork('nemesis'),
    6000,
  );
  const start = process.hrtime.bigint();
  const now = () => Number(process.hrtime.bigint() - start);
  const events: (NemesisEvent & { recordedAt: number })[] = [];
  await runNemesis(plan, cluster, {
    record: (e) => events.push({ ...e, recordedAt: now() }),
    now,
    signal: new AbortController().signal,
  });
  const failed = events.filter((e) => e.error !== undefined);
  if (failed.length > 0) throw new Error(`partition failed: ${failed[0]?.error}`);
  return events;
}
