/**
 * The acceptor configurations one key goes through when its owners change from `old` to
 * `target` (a node joining or leaving): first each gained acceptor is added, then each lost one
 * removed, one at a time, by the steps of `reconfigure.ts`. Phase 0 is the old majority
 * configuration; phase p > 0 is the p-th installed configuration (the last one, majorities of
 * `target`, once p passes the end). Every proposer of the cluster is told one phase number for a
 * whole membership change, so keys whose plans are shorter simply stay at their final
 * configuration while the others advance; neighbouring phases are always compatible.
 */
import type { NodeId } from '../replica/types.js';
import { type AcceptorConfig, majorityConfig } from './quorums.js';
import { planAdd, planRemove } from './reconfigure.js';

/**
 * Phases a membership change of one node drives: a key gains at most one acceptor and loses at
 * most one, and each of the two takes at most two installs.
 */
export const TRANSITION_PHASES = 4;

/** Whether two owner lists name the same nodes (in any order). */
export const sameSet = (a: readonly NodeId[], b: readonly NodeId[]): boolean =>
  a.length === b.length && a.every((x) => b.includes(x));

/** The installs, in order, that take a key from majorities of `old` to majorities of `target`. */
export function transitionConfigs(
  old: readonly NodeId[],
  target: readonly NodeId[],
): AcceptorConfig[] {
  if (sameSet(old, target)) return [];
  const out: AcceptorConfig[] = [];
  let current = [...old];
  for (const gained of target.filter((x) => !old.includes(x))) {
    for (const s of planAdd(current, gained).steps) if (s.kind === 'install') out.push(s.config);
    current = [...current, gained];
  }
  for (const lost of old.filter((x) => !target.includes(x))) {
    for (const s of planRemove(current, lost).steps) if (s.kind === 'install') out.push(s.config);
    current = current.filter((x) => x !== lost);
  }
  return out;
}

/** The configuration a proposer at `phase` uses for a key moving from `old` to `target`. */
export function configAt(
  old: readonly NodeId[],
  target: readonly NodeId[],
  phase: number,
): AcceptorConfig {
  const steps = transitionConfigs(old, target);
  if (steps.length === 0) return majorityConfig(old);
  if (phase <= 0) return majorityConfig(old);
  return steps[Math.min(phase, steps.length) - 1]!;
}
