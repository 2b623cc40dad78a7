/**
 * Acceptor configurations: to whom a proposer sends each phase and how many positive answers
 * that phase needs. In steady state both phases use the same acceptors with a majority quorum;
 * while the acceptor set changes (`reconfigure.ts`) the two phases differ ("flexible quorums":
 * Paxos only needs every prepare quorum to meet every accept quorum).
 */
import type { NodeId } from '../replica/types.js';

export interface PhaseQuorum {
  readonly acceptors: readonly NodeId[];
  /** Positive answers the phase needs (1 ≤ quorum ≤ acceptors.length). */
  readonly quorum: number;
}

export interface AcceptorConfig {
  readonly prepare: PhaseQuorum;
  readonly accept: PhaseQuorum;
}

export const majority = (n: number): number => Math.floor(n / 2) + 1;

/** Today's behaviour: both phases go to `acceptors` and need a majority of them. */
export function majorityConfig(acceptors: readonly NodeId[]): AcceptorConfig {
  const q: PhaseQuorum = { acceptors, quorum: majority(acceptors.length) };
  return { prepare: q, accept: q };
}

/** Throws unless the phase lists distinct acceptors and a reachable quorum. */
export function checkPhase(q: PhaseQuorum): void {
  if (new Set(q.acceptors).size !== q.acceptors.length) {
    throw new Error(`duplicate acceptor in ${q.acceptors.join(',')}`);
  }
  if (!Number.isInteger(q.quorum) || q.quorum < 1 || q.quorum > q.acceptors.length) {
    throw new Error(`quorum ${q.quorum} of ${q.acceptors.length} acceptors`);
  }
}

/**
 * Whether every `prepare.quorum`-subset of the prepare acceptors meets every
 * `accept.quorum`-subset of the accept acceptors. The worst case: each quorum first takes the
 * acceptors the other phase does not use, and only what is left over lands in the shared ones.
 */
export function quorumsMeet(prepare: PhaseQuorum, accept: PhaseQuorum): boolean {
  const inAccept = new Set(accept.acceptors);
  const shared = prepare.acceptors.filter((a) => inAccept.has(a)).length;
  const prepareOnly = prepare.acceptors.length - shared;
  const acceptOnly = accept.acceptors.length - shared;
  const p = Math.max(0, prepare.quorum - prepareOnly);
  const a = Math.max(0, accept.quorum - acceptOnly);
  return p + a > shared;
}

/**
 * Whether proposers using `x` and proposers using `y` may run at the same time: every prepare
 * quorum of either meets every accept quorum of either (x = y: the configuration alone is safe).
 */
export function compatible(x: AcceptorConfig, y: AcceptorConfig): boolean {
  return (
    quorumsMeet(x.prepare, x.accept) &&
    quorumsMeet(y.prepare, y.accept) &&
    quorumsMeet(x.prepare, y.accept) &&
    quorumsMeet(y.prepare, x.accept)
  );
}
