import { cmpStr } from '../data/canonical.js';
import type { Ballot } from '../replica/types.js';

/** Ballots are totally ordered by counter, then node id. */
export function compareBallots(a: Ballot, b: Ballot): number {
  return a.n !== b.n ? a.n - b.n : cmpStr(a.node, b.node);
}

export function ballotEq(a: Ballot | null, b: Ballot | null): boolean {
  if (a === null || b === null) return a === b;
  return compareBallots(a, b) === 0;
}
