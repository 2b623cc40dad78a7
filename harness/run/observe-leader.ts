import { OBSERVER } from '../../checker/history/event.js';
import type { Cluster, NodeId } from '../../core/cluster.js';
import type { SystemDefinition } from '../../core/system.js';
import type { Recorder } from '../recorder.js';

/**
 * Leader changes over the run, read from the cluster: while the run drives the cluster (main
 * phase to final phase), the system's `leader` hook is asked every `intervalMs`, and each change
 * of its answer is recorded as `{process: "observer", type: "info", f: "leader", value: node}`
 * (`value: null`: no node leads). The first answer is recorded too, so the history says who led
 * from the start. Not a client: pairing and well-formedness set observer events aside.
 *
 * The hook never stops or slows the run: each call is bounded by `timeoutMs` (its signal is
 * aborted then, and its answer, if it ever comes, ignored); a call that throws or times out
 * records nothing (the leader is unknown then, not absent); at most one call is in flight.
 */
export interface LeaderObserver {
  /** Stops polling; resolves once no call is in flight (at once when one hangs). Idempotent. */
  stop(): Promise<void>;
}

export interface ObserveLeaderInput {
  system: Pick<SystemDefinition, 'leader'>;
  cluster: Pick<Cluster, 'nodes' | 'spares' | 'clientAddress'>;
  recorder: Pick<Recorder, 'record'>;
  /** Between the end of one call and the next (default 500 ms). */
  intervalMs?: number;
  /** Bound on one call (default 2000 ms). */
  timeoutMs?: number;
}

export const LEADER_EVENT = 'leader';

/** Undefined when the system has no leader hook. */
export function observeLeader(input: ObserveLeaderInput): LeaderObserver | undefined {
  const hook = input.system.leader;
  if (hook === undefined) return undefined;
  const intervalMs = input.intervalMs ?? 500;
  const timeoutMs = input.timeoutMs ?? 2000;
  const stopping = new AbortController();
  let last: NodeId | null | undefined; // undefined: nothing recorded yet

  /** Resolves after `ms`, or at once when stopping. */
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping.signal.aborted) return resolve();
      const done = () => {
        clearTimeout(t);
        stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      stopping.signal.addEventListener('abort', done, { once: true });
    });

  /** The hook's answer (null: no leader), or undefined when it threw or timed out. */
  const ask = async (): Promise<NodeId | null | undefined> => {
    const call = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let giveUp: () => void = () => {};
    const bound = new Promise<undefined>((resolve) => {
      giveUp = () => {
        call.abort();
        resolve(undefined);
      };
      timer = setTimeout(giveUp, timeoutMs);
    });
    stopping.signal.addEventListener('abort', giveUp, { once: true });
    try {
      const answer = Promise.resolve()
        .then(() =>
          hook({
            // Every node of the pool: one added by a membership fault may lead.
            nodes: [...input.cluster.nodes, ...input.cluster.spares],
            clientAddress: (node) => input.cluster.clientAddress(node),
            signal: call.signal,
          }),
        )
        .then(
          (node) => node ?? null,
          () => undefined,
        );
      return await Promise.race([answer, bound]);
    } finally {
      clearTimeout(timer);
      stopping.signal.removeEventListener('abort', giveUp);
      call.abort();
    }
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      const leader = await ask();
      if (stopping.signal.aborted) break;
      if (leader !== undefined && leader !== last) {
        last = leader;
        try {
          input.recorder.record({
            process: OBSERVER,
            type: 'info',
            f: LEADER_EVENT,
            value: leader,
          });
        } catch {
          // The history is closed or refused the event: observing is over, the run goes on.
          break;
        }
      }
      await wait(intervalMs);
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
