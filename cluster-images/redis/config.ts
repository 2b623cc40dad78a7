import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { HostPort, NodeId } from '../../core/cluster.js';

/** Debian's redis-server (a link to redis-check-rdb: one program, its mode from argv[0]). */
export const REDIS_SERVER = '/usr/bin/redis-server';
/** The name under which the sentinels monitor the primary. */
export const MASTER_NAME = 'faultline';
/**
 * The sentinel's port, on each node's own address. The backend hands a node two ports (client,
 * peer); redis takes the client port and the sentinel a fixed one, since the client and the
 * health check must find a node's sentinel from its client address alone.
 */
export const SENTINEL_PORT = 26379;

/** The sentinel of the node whose redis is at `client`. */
export const sentinelAddress = (client: HostPort): HostPort => ({
  host: client.host,
  port: SENTINEL_PORT,
});

const ms = z.coerce.number().int('expected a whole number of milliseconds').min(1);
const count = z.coerce.number().int('expected a whole number').min(0);

/**
 * The settings (`--system-opt key=value`). Server ones shape the node configs; client ones
 * (`wait`, `wait-timeout`, `route`) reach the clients through their context's settings, which
 * they parse with this same schema.
 *
 * Sentinel timeouts: far below the defaults (30 s down-after, 180 s failover-timeout) so a
 * failover fits a short run, yet not so low that a slow INFO on a loaded 2-core machine running
 * three redis, three sentinels and the harness looks like an outage: 2 s without a valid reply
 * before a sentinel calls the primary down.
 */
export const redisSettings = z.strictObject({
  /** Sentinel `down-after-milliseconds`. */
  'down-after-milliseconds': ms.default(2000),
  /** Sentinel `failover-timeout`, ms (also: a failed failover is retried after twice this). */
  'failover-timeout': ms.default(6000),
  /** Server `min-replicas-to-write`: the primary refuses writes (-NOREPLICAS) with fewer. */
  'min-replicas-to-write': count.default(0),
  /** Server `min-replicas-max-lag`, seconds: a replica lagging more does not count. */
  'min-replicas-max-lag': z.coerce.number().int('expected whole seconds').min(1).default(10),
  /** Client: after each write, `WAIT wait wait-timeout`; 0: no WAIT. */
  wait: count.default(0),
  /** Client: WAIT's timeout, ms (0 would block forever: refused). */
  'wait-timeout': ms.default(1000),
  /**
   * Client: `sentinel` follows the sentinels to the primary (its own node's sentinel asked
   * first, then the others); `node` pins each client to its own node's redis, whatever its role.
   */
  route: z.enum(['sentinel', 'node']).default('sentinel'),
});
export type RedisSettings = z.output<typeof redisSettings>;

/** Client settings from a run's raw settings (already checked by the system before the run). */
export const clientSettings = (given: Readonly<Record<string, string>>): RedisSettings =>
  redisSettings.parse(given);

/** A sentinel's run id: 40 hex digits, fixed per node, so each can list the others up front. */
export const sentinelId = (node: NodeId) =>
  createHash('sha1').update(`faultline-sentinel-${node}`).digest('hex');

export interface NodeConfigs {
  redis: string;
  sentinel: string;
}

/**
 * The two config files of node `node`, given every node's address (its own included). The
 * first node in sorted order starts as the primary, the others as its replicas. Every sentinel
 * is told the replicas and the other sentinels it would otherwise discover over a few seconds
 * (INFO of the primary, hello messages), so "healthy" can require each of them to be seen up.
 */
export function nodeConfigs(
  node: NodeId,
  all: Readonly<Record<NodeId, HostPort>>,
  dataDir: string,
  s: RedisSettings,
): NodeConfigs {
  const names = Object.keys(all).sort();
  const first = names[0] as NodeId;
  const primary = all[first] as HostPort;
  const own = all[node] as HostPort;
  const redis = [
    'bind 0.0.0.0',
    `port ${own.port}`,
    'protected-mode no',
    `dir ${dataDir}`,
    // Every acknowledged write is on disk before the reply, so a killed and restarted node
    // loses nothing it acknowledged: what goes missing is replication's doing, not the disk's.
    'appendonly yes',
    'appendfsync always',
    'save ""',
    'daemonize no',
    'logfile ""',
    `min-replicas-to-write ${s['min-replicas-to-write']}`,
    `min-replicas-max-lag ${s['min-replicas-max-lag']}`,
    // A replica notices a silent primary (and the primary a silent replica) within seconds.
    'repl-ping-replica-period 1',
    'repl-timeout 5',
    // A replica's first sync starts at once (the default waits 5 s for more replicas to share it).
    'repl-diskless-sync-delay 0',
    ...(node === first ? [] : [`replicaof ${primary.host} ${primary.port}`]),
  ];
  const name = MASTER_NAME;
  const sentinel = [
    'bind 0.0.0.0',
    `port ${SENTINEL_PORT}`,
    'protected-mode no',
    `dir ${dataDir}`,
    'daemonize no',
    'logfile ""',
    `sentinel myid ${sentinelId(node)}`,
    `sentinel monitor ${name} ${primary.host} ${primary.port} 2`,
    `sentinel down-after-milliseconds ${name} ${s['down-after-milliseconds']}`,
    `sentinel failover-timeout ${name} ${s['failover-timeout']}`,
    `sentinel parallel-syncs ${name} 1`,
    ...names
      .filter((n) => n !== first)
      .map((n) => `sentinel known-replica ${name} ${all[n]?.host} ${all[n]?.port}`),
    ...names
      .filter((n) => n !== node)
      .map(
        (n) => `sentinel known-sentinel ${name} ${all[n]?.host} ${SENTINEL_PORT} ${sentinelId(n)}`,
      ),
  ];
  return { redis: `${redis.join('\n')}\n`, sentinel: `${sentinel.join('\n')}\n` };
}

/** `text` as a single-quoted shell word. */
const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * The node's one shell command: writes both configs on the first start only (the sentinel
 * rewrites its file with what it learns, and redis's is rewritten by the sentinels' CONFIG
 * REWRITE when they change its role: a restarted node comes back as what it last was), starts
 * the sentinel in the background and execs redis-server.
 *
 * Both in one container, as in Jepsen's Redis tests, because that is how Sentinel is deployed
 * (a sentinel beside each redis): a kill or pause of a node stops its redis and its sentinel
 * together, and a partition isolating the primary leaves its sentinel on the minority side,
 * still naming the old primary to whoever asks it.
 */
export function launchScript(dataDir: string, configs: NodeConfigs): string {
  const redisConf = `${dataDir}/redis.conf`;
  const sentinelConf = `${dataDir}/sentinel.conf`;
  return [
    `mkdir -p ${dataDir}`,
    `[ -f ${redisConf} ] || printf '%s' ${quote(configs.redis)} > ${redisConf}`,
    `[ -f ${sentinelConf} ] || printf '%s' ${quote(configs.sentinel)} > ${sentinelConf}`,
    `${REDIS_SERVER} ${sentinelConf} --sentinel &`,
    `exec ${REDIS_SERVER} ${redisConf}`,
  ].join('\n');
}
