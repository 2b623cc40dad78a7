/**
 * The CASPaxos acceptor as pure state transitions. The caller (the replica) persists `next`
 * before sending `reply`: a reply may only reflect durable state.
 */
import type {
  AcceptorState,
  AcceptReply,
  Ballot,
  LinValue,
  PrepareReply,
} from '../replica/types.js';
import { compareBallots } from './ballot.js';

export const EMPTY_ACCEPTOR: AcceptorState = { promised: null, accepted: null };

export interface Transition<R> {
  /** The new state, or undefined if unchanged (nothing to persist). */
  next: AcceptorState | undefined;
  reply: R;
}

/**
 * Promise `b` unless a higher ballot was promised. Re-promising the same ballot (a duplicated
 * prepare from its one proposer) is harmless and answered the same way.
 */
export function onPrepare(st: AcceptorState, b: Ballot): Transition<PrepareReply> {
  if (st.promised !== null && compareBallots(b, st.promised) < 0) {
    return { next: undefined, reply: { ok: false, promised: st.promised } };
  }
  const same = st.promised !== null && compareBallots(b, st.promised) === 0;
  return {
    next: same ? undefined : { promised: b, accepted: st.accepted },
    reply: { ok: true, accepted: st.accepted },
  };
}

/** Accept `(b, v)` unless a higher ballot was promised; accepting also promises `b`. */
export function onAccept(st: AcceptorState, b: Ballot, v: LinValue): Transition<AcceptReply> {
  if (st.promised !== null && compareBallots(b, st.promised) < 0) {
    return { next: undefined, reply: { ok: false, promised: st.promised } };
  }
  if (st.accepted !== null && compareBallots(b, st.accepted.ballot) === 0) {
    // duplicate of an accept already taken (one proposer sends one value per ballot)
    return { next: undefined, reply: { ok: true } };
  }
  return { next: { promised: b, accepted: { ballot: b, value: v } }, reply: { ok: true } };
}

/**
 * Replay of a logged transition on recovery: monotone in ballots, so replaying a record over
 * a state that already includes it (or something later) changes nothing.
 */
export function replayPromise(st: AcceptorState, b: Ballot): AcceptorState {
  if (st.promised !== null && compareBallots(b, st.promised) <= 0) return st;
  return { promised: b, accepted: st.accepted };
}

export function replayAccept(st: AcceptorState, b: Ballot, v: LinValue): AcceptorState {
  const promised = st.promised !== null && compareBallots(st.promised, b) > 0 ? st.promised : b;
  const accepted =
    st.accepted !== null && compareBallots(st.accepted.ballot, b) >= 0
      ? st.accepted
      : { ballot: b, value: v };
  return { promised, accepted };
}
