import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { HostPort, NodeId } from '../../core/cluster.js';
import type { ClusterView } from '../../core/system.js';
import { MASTER_NAME, sentinelAddress } from './config.js';
import { withConnection } from './connection.js';

const addrReply = z.union([z.null(), z.tuple([z.string(), z.string()])]);
const flatPairs = z.array(z.string()).transform((xs) => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < xs.length; i += 2) out[xs[i] as string] = xs[i + 1] as string;
  return out;
});
const pairLists = z.array(flatPairs);

/** `SENTINEL get-master-addr-by-name`: the primary this sentinel names, or null. */
export async function masterAddress(r: Redis): Promise<HostPort | null> {
  const a = addrReply.parse(await r.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME));
  return a === null ? null : { host: a[0], port: Number(a[1]) };
}

/** The node whose client address is `a`, if any. */
export function nodeAt(
  a: HostPort,
  nodes: readonly NodeId[],
  clientAddress: (n: NodeId) => HostPort,
): NodeId | undefined {
  return nodes.find((n) => {
    const c = clientAddress(n);
    return c.host === a.host && c.port === a.port;
  });
}

/** `INFO replication` as key → value. */
export async function replicationInfo(r: Redis): Promise<Record<string, string>> {
  const text = z.string().parse(await r.call('INFO', 'replication'));
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** `ROLE`'s first element: master, slave or sentinel. */
export async function role(r: Redis): Promise<string> {
  const reply = z
    .array(z.unknown())
    .min(1)
    .parse(await r.call('ROLE'));
  return z.string().parse(reply[0]);
}

const flagsOf = (entry: Record<string, string>) => new Set((entry.flags ?? '').split(','));
/** A sentinel's entry for an instance it sees working: exactly its role flag, no down/disconnected. */
const seenUp = (entry: Record<string, string>, kind: string) => {
  const flags = flagsOf(entry);
  return flags.size === 1 && flags.has(kind);
};

/**
 * Whether the node at `client` is healthy: its redis replicates (a replica: link to its primary
 * up and synced; the primary: every replica its sentinel knows connected and online) and its
 * sentinel sees the primary, every replica (link ok) and every other sentinel up, and names as
 * primary the one this redis follows (or this redis, when it is the primary). The sentinels
 * are told the replicas and the other sentinels in their config, so "every" is the whole
 * cluster from the first start.
 */
export async function nodeHealthy(client: HostPort, signal: AbortSignal): Promise<boolean> {
  const [info, view] = await Promise.all([
    withConnection(client, signal, replicationInfo),
    withConnection(sentinelAddress(client), signal, async (r) => ({
      master: flatPairs.parse(await r.call('SENTINEL', 'MASTER', MASTER_NAME)),
      replicas: pairLists.parse(await r.call('SENTINEL', 'REPLICAS', MASTER_NAME)),
      sentinels: pairLists.parse(await r.call('SENTINEL', 'SENTINELS', MASTER_NAME)),
    })),
  ]);
  const { master, replicas, sentinels } = view;
  if (!seenUp(master, 'master')) return false;
  if (replicas.length === 0 || sentinels.length === 0) return false;
  if (!replicas.every((e) => seenUp(e, 'slave') && e['master-link-status'] === 'ok')) return false;
  if (!sentinels.every((e) => seenUp(e, 'sentinel'))) return false;
  const named = `${master.ip}:${master.port}`;
  if (info.role === 'master') {
    if (named !== `${client.host}:${client.port}`) return false;
    const online = Object.entries(info).filter(
      ([k, v]) => /^slave\d+$/.test(k) && v.includes('state=online'),
    );
    return online.length === replicas.length;
  }
  return (
    info.role === 'slave' &&
    info.master_link_status === 'up' &&
    info.master_sync_in_progress === '0' &&
    named === `${info.master_host}:${info.master_port}`
  );
}

/**
 * The leader hook: every node's sentinel is asked which primary it knows (at once, each bounded
 * by 1 s); the node most of the answers name wins (a sentinel cut off with an old primary is
 * outvoted by the others once they have failed over), and is kept only if its own redis says
 * ROLE master.
 */
export async function currentPrimary(view: ClusterView): Promise<NodeId | undefined> {
  const ask = (n: NodeId) =>
    withConnection(
      sentinelAddress(view.clientAddress(n)),
      AbortSignal.any([view.signal, AbortSignal.timeout(1000)]),
      masterAddress,
    ).catch(() => null);
  const answers = await Promise.all(view.nodes.map(ask));
  const votes = new Map<NodeId, number>();
  for (const a of answers) {
    const n = a === null ? undefined : nodeAt(a, view.nodes, view.clientAddress);
    if (n !== undefined) votes.set(n, (votes.get(n) ?? 0) + 1);
  }
  const [best] = [...votes.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (best === undefined || view.signal.aborted) return undefined;
  const confirmed = await withConnection(
    view.clientAddress(best[0]),
    AbortSignal.any([view.signal, AbortSignal.timeout(1000)]),
    role,
  ).catch(() => undefined);
  return confirmed === 'master' ? best[0] : undefined;
}
