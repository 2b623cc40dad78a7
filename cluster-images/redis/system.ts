import { existsSync } from 'node:fs';
import type { HostPort, NodeId } from '../../core/cluster.js';
import type { SystemDefinition } from '../../core/system.js';
import { defineSystem } from '../../core/system.js';
import {
  redisListAppendClient,
  redisRegisterClient,
  redisReplicaSetClient,
  redisRwRegisterClient,
  redisSetClient,
} from './client.js';
import { launchScript, nodeConfigs, REDIS_SERVER, redisSettings } from './config.js';
import { currentPrimary, nodeHealthy } from './sentinel.js';

export { REDIS_SERVER } from './config.js';
export { redisErrors } from './errors.js';

/**
 * Redis 7 with Sentinel under test: on each node a redis-server (the first node the primary,
 * the others its replicas) and a sentinel (quorum 2), from Debian's packages
 * (`sh scripts/ensure-redis.sh` installs them). Clients ask the sentinels for the primary.
 *
 * Docker only. Replicas and sentinels announce their own addresses to each other (a replica's
 * address as the primary saw its connection, sentinels through hello messages), and clients
 * must reach whatever address a sentinel names. On the local backend node i reaches peer j
 * through a proxy of its own (one per ordered pair): the address a node announces is not one
 * its peers or the clients can use, so the sentinels would monitor addresses nobody reaches.
 * In docker every node has one address, the same for everyone.
 */
export const redis: SystemDefinition = defineSystem({
  name: 'redis',
  settings: redisSettings,
  docker: {
    // redis-server is a link to redis-check-rdb (the mode is chosen from argv[0]): both are
    // copied, links kept, with the libraries ldd lists (jemalloc, libssl, libsystemd...).
    image: { binaries: [REDIS_SERVER] },
    launch({ node, listen, peers, dataDir, settings }) {
      // Peers are given at their peer port; their redis listens on the client port, the same
      // on every node in docker (each node its own address).
      const all: Record<NodeId, HostPort> = {
        ...Object.fromEntries(
          Object.entries(peers).map(([n, a]) => [n, { host: a.host, port: listen.port }]),
        ),
        [node]: listen,
      };
      return {
        command: '/bin/sh',
        args: ['-c', launchScript(dataDir, nodeConfigs(node, all, dataDir, settings))],
        env: {},
      };
    },
  },
  async healthy(client) {
    try {
      return await nodeHealthy(client, AbortSignal.timeout(1000));
    } catch {
      return false;
    }
  },
  // Off: with libfaketime preloaded as the backend does it (FAKETIME_TIMESTAMP_FILE, real
  // monotonic clock, no cache), Debian's redis-server 7.0.15 hangs at start before it listens:
  // libfaketime reports "unexpected recursive calls to clock_gettime()" and the process waits
  // on a futex for good (jemalloc, linked in, reads the clock while libfaketime initialises and
  // allocates). Checked in this image with the offset file at +3600 s: no port, no log line.
  clockFaults: false,
  clients: {
    register: redisRegisterClient,
    set: redisSetClient,
    'replica-set': redisReplicaSetClient,
    'list-append': redisListAppendClient,
    'rw-register': redisRwRegisterClient,
  },
  leader: currentPrimary,
  preflight() {
    return existsSync(REDIS_SERVER)
      ? undefined
      : `redis is not installed (${REDIS_SERVER} is missing): run \`sh scripts/ensure-redis.sh\` (as root)`;
  },
});

export default redis;
