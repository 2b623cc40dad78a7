import { z } from 'zod';
import type { QuorumOp } from '../core/client.js';

/** The per-request quorum options of the eventual workloads (`?r=` / `?w=`; default: the store's). */
export const quorumOptions = {
  /** Read quorum per request (1..N); absent: the store's default. */
  r: z.number().int().min(1).max(64).optional(),
  /** Write quorum per request (1..N); absent: the store's default. */
  w: z.number().int().min(1).max(64).optional(),
};

/** The op with the workload's quorum for its kind attached (reads take r, the rest w). */
export function withQuorum(
  op: QuorumOp,
  q: { r?: number | undefined; w?: number | undefined },
): QuorumOp {
  const quorum = op.f === 'read' ? q.r : q.w;
  if (quorum === undefined) return op;
  return op.f === 'read' ? { ...op, r: quorum } : { ...op, w: quorum };
}
