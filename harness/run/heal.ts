import type { FaultStyle } from '../../checker/timeline/index.js';
import { closingEventFor, nemesisIntervals } from '../../checker/timeline/index.js';
import type { Cluster } from '../../core/cluster.js';
import { errorText } from './errors.js';
import type { RunSession } from './session.js';

/**
 * Stage 4, heal: every fault is undone (even after Ctrl-C: the final state is a healed cluster),
 * and each fault still open in the history is closed there by the event that closes its kind, so
 * the timeline, plots and availability windows end where the heal did. A heal that fails is a
 * problem of the run.
 */
/** `faultStyles`: the nemesis's fault kinds, so that faults of its own names are closed too. */
export async function healStage(
  session: RunSession,
  cluster: Cluster,
  faultStyles?: readonly FaultStyle[],
): Promise<void> {
  session.setPhase('heal');
  session.recordNemesis({ process: 'nemesis', type: 'info', f: 'heal-all-start' });
  try {
    await cluster.healAll();
  } catch (e) {
    session.problem(`healing the cluster failed: ${errorText(e)}`);
  }
  for (const iv of nemesisIntervals(session.nemesisEvents, faultStyles)) {
    if (iv.interval && iv.end === Number.POSITIVE_INFINITY && iv.kind !== 'heal-all') {
      session.recordNemesis({
        process: 'nemesis',
        type: 'info',
        f: closingEventFor(iv.label, faultStyles),
        value: 'healed',
      });
    }
  }
  session.recordNemesis({ process: 'nemesis', type: 'info', f: 'heal-all-stop' });
}
