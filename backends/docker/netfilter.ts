import type { Grudge, NodeId } from '../../core/cluster.js';

/** The filter-table chain partitions live in, jumped to from INPUT and OUTPUT. */
export const PARTITION_CHAIN = 'faultline';
/** The chain link loss lives in, jumped to from OUTPUT (traffic leaving the node). */
export const LINK_CHAIN = 'faultline-link';

/** nat-table chains sending peer connections through the delay proxy (empty until a delay). */
export const DELAY_OUT_CHAIN = 'faultline-delay-out';
export const DELAY_IN_CHAIN = 'faultline-delay-in';
/** The user id the delay proxy runs as: its own upstream connections are not redirected. */
export const DELAY_PROXY_UID = 65534;
/** Delay proxy listeners for peer j: the node's connections out, and peers' connections in. */
export const delayOutPort = (peerIndex: number) => 20000 + peerIndex;
export const delayInPort = (peerIndex: number) => 21000 + peerIndex;

/**
 * Creates the chains and hooks them in (run once, in a fresh network namespace). In the nat
 * table only our own chains are created and jumped to; nothing there is ever flushed.
 */
export function setupScript(): string {
  return [
    `iptables -w -N ${PARTITION_CHAIN}`,
    `iptables -w -N ${LINK_CHAIN}`,
    `iptables -w -I INPUT 1 -j ${PARTITION_CHAIN}`,
    `iptables -w -I OUTPUT 1 -j ${PARTITION_CHAIN}`,
    `iptables -w -A OUTPUT -j ${LINK_CHAIN}`,
    `iptables -w -t nat -N ${DELAY_OUT_CHAIN}`,
    `iptables -w -t nat -N ${DELAY_IN_CHAIN}`,
    `iptables -w -t nat -A OUTPUT -j ${DELAY_OUT_CHAIN}`,
    `iptables -w -t nat -A PREROUTING -j ${DELAY_IN_CHAIN}`,
  ].join(' && ');
}

export interface DelayPeer {
  ip: string;
  index: number;
}

/**
 * DNAT through the delay proxy of `self`: connections the node opens to a peer's port go to
 * the proxy's OUT listener for that peer (except the proxy's own, by user id), connections a
 * peer opens to the node's port go to the IN listener. Replaces only our two nat chains.
 */
export function delayRules(self: string, peerPort: number, peers: readonly DelayPeer[]): string {
  const lines = ['*nat', `:${DELAY_OUT_CHAIN} - [0:0]`, `:${DELAY_IN_CHAIN} - [0:0]`];
  for (const p of peers) {
    lines.push(
      `-A ${DELAY_OUT_CHAIN} -d ${p.ip} -p tcp --dport ${peerPort} -m owner ! --uid-owner ${DELAY_PROXY_UID} -j DNAT --to-destination ${self}:${delayOutPort(p.index)}`,
      `-A ${DELAY_IN_CHAIN} -s ${p.ip} -d ${self} -p tcp --dport ${peerPort} -j DNAT --to-destination ${self}:${delayInPort(p.index)}`,
    );
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/**
 * The partition rules one node carries for a grudge, as `iptables-restore --noflush` input:
 * declaring the chain flushes it and only it (nat, where Docker's DNS rules live, is never
 * touched), and the new rules replace the old atomically.
 *
 * `grudge[a]` includes `b` ⇒ traffic b→a is dropped: on a, INPUT from b; on b, OUTPUT to a.
 * Where only one direction of a pair is cut, TCP handshake packets (SYN set) still pass, so
 * that connections can open and the uncut direction carries data (as the local backend's
 * proxies do); where both directions are cut, every packet is dropped.
 */
export function partitionRules(
  node: NodeId,
  grudge: Grudge,
  addressOf: (n: NodeId) => string,
  nodes: readonly NodeId[],
): string {
  const cut = (from: NodeId, to: NodeId) => (grudge[to] ?? []).includes(from);
  const lines = ['*filter', `:${PARTITION_CHAIN} - [0:0]`];
  for (const peer of nodes) {
    if (peer === node) continue;
    const ip = addressOf(peer);
    const inbound = cut(peer, node);
    const outbound = cut(node, peer);
    if (inbound) {
      if (!outbound) {
        lines.push(`-A ${PARTITION_CHAIN} -s ${ip} -p tcp --tcp-flags SYN SYN -j RETURN`);
      }
      lines.push(`-A ${PARTITION_CHAIN} -s ${ip} -j DROP`);
    }
    if (outbound) {
      if (!inbound) {
        lines.push(`-A ${PARTITION_CHAIN} -d ${ip} -p tcp --tcp-flags SYN SYN -j RETURN`);
      }
      lines.push(`-A ${PARTITION_CHAIN} -d ${ip} -j DROP`);
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** Loss on traffic leaving `node` for its peers (clients on the host are not affected). */
export function linkRules(loss: number, peerAddresses: readonly string[]): string {
  if (!(loss >= 0 && loss <= 1)) throw new Error(`link loss must be in [0, 1], got ${loss}`);
  const lines = ['*filter', `:${LINK_CHAIN} - [0:0]`];
  if (loss > 0) {
    for (const ip of peerAddresses) {
      lines.push(
        `-A ${LINK_CHAIN} -d ${ip} -m statistic --mode random --probability ${loss} -j DROP`,
      );
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}
