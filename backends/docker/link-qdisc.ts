import type { LinkFault } from '../../core/cluster.js';

/**
 * Link faults as traffic-control qdiscs on the node's interface (inside its network
 * container), pure command construction.
 *
 * - Bandwidth (`rateKbit`) is a token bucket: `tbf rate <r>kbit burst <b> latency <l>`.
 * - Where the kernel has netem, delay, jitter and loss are a netem qdisc at the root, with the
 *   tbf as its child when a bandwidth limit is asked too (netem holds one child qdisc).
 *   Our jitter is `delay + jitter·U[0,1)`; netem's `delay D J` is D ± J, uniform without a
 *   distribution table, so we ask `delay (delay + jitter/2) (jitter/2)`.
 * - Without netem (this machine's kernel), only the tbf is a qdisc; loss stays in iptables and
 *   delay in the user-space delay proxy.
 *
 * The qdiscs shape everything leaving the interface (peers and the host's clients alike): this
 * kernel has tbf and htb but no classifier (u32), so peer traffic cannot be singled out.
 */

/** The interface of the run network inside a node's network container. */
export const LINK_DEVICE = 'eth0';

/** The probe run once at cluster start: can a netem qdisc be created here? */
export const NETEM_PROBE_LINE = `tc qdisc add dev ${LINK_DEVICE} root handle 1: netem delay 0ms && tc qdisc del dev ${LINK_DEVICE} root`;

export type NetemSupport = 'present' | 'absent';

/** The probe's verdict from its exit code. */
export const netemFromProbe = (code: number): NetemSupport => (code === 0 ? 'present' : 'absent');

/** The token bucket's burst: 10 ms at the rate, at least 16 000 bytes (ten full frames). */
export function tbfBurstBytes(rateKbit: number): number {
  return Math.max(16_000, Math.ceil((rateKbit * 1000) / 8 / 100));
}

/** Queueing bound of the token bucket before it drops (tc's `latency`). */
export const TBF_LATENCY_MS = 100;

const num = (x: number) => String(Math.round(x * 1000) / 1000);

function tbfArgs(rateKbit: number): string {
  if (!(Number.isFinite(rateKbit) && rateKbit >= 8)) {
    throw new Error(`link rateKbit must be a number >= 8 (kbit/s), got ${rateKbit}`);
  }
  const rate = Math.round(rateKbit);
  return `tbf rate ${rate}kbit burst ${tbfBurstBytes(rate)} latency ${TBF_LATENCY_MS}ms`;
}

/** netem's arguments for the delay, jitter and loss of a fault; '' when there are none. */
export function netemArgs(fault: LinkFault): string {
  const delay = fault.delayMs ?? 0;
  const jitter = fault.jitterMs ?? 0;
  const loss = fault.loss ?? 0;
  const parts: string[] = [];
  if (delay > 0 || jitter > 0) {
    parts.push(
      jitter > 0
        ? `delay ${num(delay + jitter / 2)}ms ${num(jitter / 2)}ms`
        : `delay ${num(delay)}ms`,
    );
  }
  if (loss > 0) parts.push(`loss ${num(loss * 100)}%`);
  return parts.length === 0 ? '' : `netem ${parts.join(' ')}`;
}

/**
 * The qdiscs a fault needs, root first, each `[parent, handle, kind and arguments]`. Empty:
 * the default qdisc (no link fault on the interface).
 */
export function qdiscTree(fault: LinkFault, netem: NetemSupport): [string, string, string][] {
  const tree: [string, string, string][] = [];
  const n = netem === 'present' ? netemArgs(fault) : '';
  if (n !== '') tree.push(['root', '1:', n]);
  if (fault.rateKbit !== undefined) {
    tree.push(
      n === ''
        ? ['root', '1:', tbfArgs(fault.rateKbit)]
        : ['parent 1:1', '10:', tbfArgs(fault.rateKbit)],
    );
  }
  return tree;
}

/** What shape a tree has (kinds and places, not numbers): `replace` works in place only within one shape. */
const shapeOf = (tree: readonly [string, string, string][]) =>
  tree.map(([parent, handle, args]) => `${parent} ${handle} ${args.split(' ')[0]}`).join(' / ');

/**
 * The tc command lines taking the interface from the qdiscs of `before` to those of `after`
 * (both as built by `qdiscTree`). Same shape: `tc qdisc replace` of each (in place, no window
 * without the limit). Another shape: delete the root (back to the default) and build anew.
 * Nothing to change: no lines.
 */
export function qdiscCommands(
  before: readonly [string, string, string][],
  after: readonly [string, string, string][],
): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const lines: string[] = [];
  if (before.length > 0 && shapeOf(before) !== shapeOf(after)) {
    lines.push(`tc qdisc del dev ${LINK_DEVICE} root`);
  }
  for (const [parent, handle, args] of after) {
    lines.push(`tc qdisc replace dev ${LINK_DEVICE} ${parent} handle ${handle} ${args}`);
  }
  return lines;
}

/** Whether iptables loss and the delay proxy are still needed beside the qdiscs. */
export function userSpaceParts(fault: LinkFault, netem: NetemSupport): LinkFault {
  if (netem === 'present') return {};
  const rest: LinkFault = {};
  if (fault.delayMs !== undefined) rest.delayMs = fault.delayMs;
  if (fault.jitterMs !== undefined) rest.jitterMs = fault.jitterMs;
  if (fault.loss !== undefined) rest.loss = fault.loss;
  return rest;
}
