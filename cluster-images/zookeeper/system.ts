import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { HostPort, NodeId } from '../../core/cluster.js';
import type { ClusterView, SystemDefinition } from '../../core/system.js';
import { defineSystem } from '../../core/system.js';
import {
  type ZkReadMode,
  zookeeperRegisterClient,
  zookeeperReplicaSetClient,
  zookeeperSetClient,
} from './clients.js';
import { serverMode } from './four-letter.js';
import {
  CLASS_PATH,
  canTrim,
  ensureTrimmedRuntime,
  IMAGE_JAVA_HOME,
  JDK_HOME,
  runtimeSource,
  systemLibraries,
  ZOOKEEPER_JARS,
} from './runtime.js';

/**
 * ZooKeeper 3.8 (Zab, one leader) under test, from Debian's `zookeeper` package and OpenJDK 17
 * (`sh scripts/ensure-zookeeper.sh` installs them), spoken to with faultline's own client of
 * the jute protocol (`session.ts`, `clients.ts`).
 *
 * Docker only. A ZooKeeper server needs two peer ports, the quorum port (followers to the
 * leader) and the leader-election port, both in every `server.N` line; the local backend gives
 * each node one peer port and puts its per-pair proxies (partitions, delays) on that port only,
 * so election traffic would go around them and a partitioned node would still vote. (ZooKeeper
 * itself would accept different peer addresses per node: a server knows its peers by id, not by
 * address.) In docker each node has its own address; the quorum port is the backend's peer port
 * and the election port the next one, and partitions drop all traffic between addresses.
 */

/** Where each server takes leader election connections (the quorum port is the peer port). */
export const ELECTION_PORT_OFFSET = 1;

const int = (min: number) => z.coerce.number().int('expected a whole number').min(min);

/**
 * The node settings (`--system-opt key=value`). The tick is a quarter of ZooKeeper's usual
 * 2000 ms so that failover takes seconds; the limits in ticks leave room for a loaded 2-core
 * machine running three JVMs and the harness (a follower loses its leader after `sync-limit`
 * ticks without a word from it: 2 s).
 */
export const zookeeperSettings = z.strictObject({
  /** `tickTime`, ms: the heartbeat unit; sessions may last 2 to 20 ticks. */
  'tick-time': int(50).default(500),
  /** `initLimit`, ticks: time for a follower to connect to and sync with the leader. */
  'init-limit': int(1).default(20),
  /** `syncLimit`, ticks: a follower silent (or a leader unheard) that long is dropped. */
  'sync-limit': int(1).default(4),
  /** The JVM's maximum heap, MB. */
  'heap-mb': int(32).default(256),
});
export type ZookeeperSettings = z.output<typeof zookeeperSettings>;

/** Server ids: the nodes in name order (n2 before n10), 1-based, the same on every node. */
export function serverIds(nodes: readonly NodeId[]): Map<NodeId, number> {
  const sorted = [...nodes].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return new Map(sorted.map((n, i) => [n, i + 1]));
}

/** zoo.cfg for one server: every server's addresses, the client port bound to its own. */
export function zooCfg(
  dataDir: string,
  listen: HostPort,
  servers: { id: number; peer: HostPort }[],
  s: ZookeeperSettings,
): string {
  const lines = [
    `tickTime=${s['tick-time']}`,
    `initLimit=${s['init-limit']}`,
    `syncLimit=${s['sync-limit']}`,
    `dataDir=${dataDir}`,
    `clientPort=${listen.port}`,
    `clientPortAddress=${listen.host}`,
    '4lw.commands.whitelist=srvr,mntr,ruok',
    'admin.enableServer=false',
    // Small transaction log files (64 MB by default), a few hundred ops a second at most.
    'preAllocSize=4096',
    // A single node runs standalone (`Mode: standalone`), more form a quorum.
    ...(servers.length > 1
      ? servers.map(
          ({ id, peer }) =>
            `server.${id}=${peer.host}:${peer.port}:${peer.port + ELECTION_PORT_OFFSET}`,
        )
      : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** The JVM's flags: small heap, quick start, logs to stdout with wall-clock timestamps. */
function jvmFlags(s: ZookeeperSettings): string[] {
  return [
    `-Xmx${s['heap-mb']}m`,
    '-Xms32m',
    '-XX:+UseSerialGC',
    // C1 only: far less compiling at start on two busy cores, fast enough for a few hundred ops/s.
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    '-Djava.net.preferIPv4Stack=true',
    // An election connection to a cut-off peer gives up after 1 s (default 5 s), and election
    // rounds back off to at most 2 s (default 60 s): failover in seconds.
    '-Dzookeeper.cnxTimeout=1000',
    '-Dzookeeper.fastleader.maxNotificationInterval=2000',
    '-Dorg.slf4j.simpleLogger.logFile=System.out',
    '-Dorg.slf4j.simpleLogger.showDateTime=true',
    '-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd_HH:mm:ss.SSS',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=info',
  ];
}

/** The node's command: write myid and zoo.cfg (a heredoc), then exec the JVM. */
export function launchScript(
  dataDir: string,
  id: number,
  cfg: string,
  s: ZookeeperSettings,
): string {
  return [
    `mkdir -p ${dataDir}`,
    `echo ${id} > ${dataDir}/myid`,
    `cat > ${dataDir}/zoo.cfg <<'ZOOCFG'\n${cfg}ZOOCFG`,
    `exec ${IMAGE_JAVA_HOME}/bin/java ${jvmFlags(s).join(' ')} -cp ${CLASS_PATH} org.apache.zookeeper.server.quorum.QuorumPeerMain ${dataDir}/zoo.cfg`,
  ].join('\n');
}

/** The node leading now: the first whose `srvr` says `Mode: leader` (or standalone). */
export async function zookeeperLeader(cluster: ClusterView): Promise<NodeId | undefined> {
  for (const node of cluster.nodes) {
    if (cluster.signal.aborted) return undefined;
    try {
      const mode = await serverMode(cluster.clientAddress(node), 1000, cluster.signal);
      if (mode === 'leader' || mode === 'standalone') return node;
    } catch {
      // Down, paused or not answering: ask the next.
    }
  }
  return undefined;
}

/** What keeps this host from running ZooKeeper nodes, or undefined; builds the trimmed runtime. */
export function zookeeperPreflight(): string | undefined {
  const missing = [...ZOOKEEPER_JARS, join(JDK_HOME, 'bin', 'java')].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    return `ZooKeeper or its Java runtime is not installed (${missing.join(', ')} missing): run \`sh scripts/ensure-zookeeper.sh\` (as root)`;
  }
  if (!canTrim()) return undefined;
  try {
    ensureTrimmedRuntime();
    return undefined;
  } catch (e) {
    return `building the trimmed Java runtime for ZooKeeper failed (${e instanceof Error ? e.message : String(e)}): run \`sh scripts/ensure-zookeeper.sh\``;
  }
}

/**
 * ZooKeeper as a faultline system. `reads` picks how the clients read (as a test's
 * `defineTest({ system })` or a module's default export): `plain` getData, served by the server
 * the client is connected to from what it has applied (ZooKeeper's default, the built-in
 * `zookeeper`), or `sync` then getData (`zookeeper-sync`): the server first catches up with the
 * leader. A system of its own rather than a client setting, as etcd's read modes are: the
 * results folder and `--system` then say which reads were tested.
 */
export function zookeeperSystem(options: { reads?: ZkReadMode } = {}): SystemDefinition {
  const reads = options.reads ?? 'plain';
  return defineSystem({
    name: reads === 'sync' ? 'zookeeper-sync' : 'zookeeper',
    settings: zookeeperSettings,
    docker: {
      image: {
        files: [
          { from: runtimeSource(), to: IMAGE_JAVA_HOME },
          ...ZOOKEEPER_JARS.map((jar) => ({ from: jar, to: jar })),
        ],
        binaries: systemLibraries(),
      },
      launch({ node, listen, peerListen, peers, dataDir, settings }) {
        const all: Record<NodeId, HostPort> = { ...peers, [node]: peerListen };
        const ids = serverIds(Object.keys(all));
        const servers = [...ids].map(([n, id]) => ({ id, peer: all[n] as HostPort }));
        const cfg = zooCfg(dataDir, listen, servers, settings);
        return {
          command: '/bin/sh',
          args: ['-c', launchScript(dataDir, ids.get(node) ?? 0, cfg, settings)],
          env: {},
        };
      },
    },
    // Serving: in a quorum as leader or follower (a server without one refuses clients).
    async healthy(client) {
      try {
        const mode = await serverMode(client, 1000);
        return mode === 'leader' || mode === 'follower' || mode === 'standalone';
      } catch {
        return false;
      }
    },
    // libfaketime does reach the JVM (System.currentTimeMillis goes through libc's
    // clock_gettime): with it preloaded and a +3 d offset written to n1's clock file, n1's log
    // timestamps jumped three days (2026-12-06_10:02:26 → 2026-12-09_10:02:28). But the JVM
    // reads the clock so often that the backend's uncached libfaketime (it re-reads the clock
    // file at every read) slows it to a crawl: a 3-node cluster took 35 s instead of 3 s to
    // form (followers' syncs with the leader timed out), and a write then timed out after 5 s.
    // And ZooKeeper measures its timeouts (sessions, sync and init limits, elections) on the
    // monotonic clock (Time.currentElapsedTime = System.nanoTime), which the backend leaves
    // real: a wall-clock offset would only move znode ctime/mtime and log timestamps. So no.
    clockFaults: false,
    clients: {
      register: zookeeperRegisterClient(reads),
      set: zookeeperSetClient(reads),
      'replica-set': zookeeperReplicaSetClient,
    },
    leader: zookeeperLeader,
    preflight: zookeeperPreflight,
  });
}

export const zookeeper: SystemDefinition = zookeeperSystem();
export default zookeeper;
