import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostPort } from '../../core/cluster.js';
import {
  MASTER_NAME,
  nodeConfigs,
  REDIS_SERVER,
  redisSettings,
  SENTINEL_PORT,
  sentinelId,
} from './config.js';
import { redis } from './system.js';
import { type FakeRedis, fakeRedis, type Reply } from './test/fake-resp.js';

/** Fake nodes on 127.0.X.1-3 (X from the pid, 130-229 here: client.test.ts uses 20-119). */
const NODES = ['n1', 'n2', 'n3'] as const;
type N = (typeof NODES)[number];
const subnet = 130 + (process.pid % 100);
const hostOf = (n: N) => `127.0.${subnet}.${NODES.indexOf(n) + 1}`;
const redisAnswer = {} as Record<N, (cmd: string[]) => Reply>;
const sentinelAnswer = {} as Record<N, (cmd: string[]) => Reply>;
const servers: FakeRedis[] = [];
const addresses = {} as Record<N, HostPort>;

beforeAll(async () => {
  for (const n of NODES) {
    redisAnswer[n] = () => 'drop';
    sentinelAnswer[n] = () => 'drop';
    const r = await fakeRedis(hostOf(n), 0, (c) => redisAnswer[n](c));
    servers.push(r, await fakeRedis(hostOf(n), SENTINEL_PORT, (c) => sentinelAnswer[n](c)));
    addresses[n] = r.address;
  }
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const pairs = (o: Record<string, string>) => Object.entries(o).flat();
const addr = (n: N) => ({ ip: addresses[n].host, port: String(addresses[n].port) });

/** A sentinel's view: primary `primary`, the other two replicas, two other sentinels. */
function sentinelView(
  primary: N,
  flags: { replica?: string; sentinel?: string; master?: string } = {},
) {
  return (c: string[]): Reply => {
    if (c[0] !== 'SENTINEL') return { error: 'ERR unknown command' };
    const others = NODES.filter((n) => n !== primary);
    switch (c[1]) {
      case 'MASTER':
        return pairs({ name: MASTER_NAME, ...addr(primary), flags: flags.master ?? 'master' });
      case 'REPLICAS':
        return others.map((n) =>
          pairs({ ...addr(n), flags: flags.replica ?? 'slave', 'master-link-status': 'ok' }),
        );
      case 'SENTINELS':
        return others.map((n) =>
          pairs({
            ip: hostOf(n),
            port: String(SENTINEL_PORT),
            flags: flags.sentinel ?? 'sentinel',
          }),
        );
      case 'get-master-addr-by-name':
        return [addresses[primary].host, String(addresses[primary].port)];
      default:
        return { error: 'ERR unknown subcommand' };
    }
  };
}

const info = (fields: Record<string, string>) =>
  `# Replication\r\n${Object.entries(fields)
    .map(([k, v]) => `${k}:${v}`)
    .join('\r\n')}\r\n`;
const asPrimary = (online = 2): Reply =>
  info({
    role: 'master',
    connected_slaves: String(online),
    ...Object.fromEntries(
      Array.from({ length: online }, (_, i) => [
        `slave${i}`,
        `ip=10.0.0.${i},port=8000,state=online,offset=1,lag=0`,
      ]),
    ),
  });
const asReplica = (of: N, link = 'up'): Reply =>
  info({
    role: 'slave',
    master_host: addresses[of].host,
    master_port: String(addresses[of].port),
    master_link_status: link,
    master_sync_in_progress: '0',
  });
const redisRole =
  (role: string, infoReply: Reply) =>
  (c: string[]): Reply =>
    c[0] === 'INFO' ? infoReply : c[0] === 'ROLE' ? [role, 0, []] : { error: 'ERR' };

describe('redis system', () => {
  it('health: replication online and the sentinel sees every replica and sentinel up', async () => {
    const recipe = redis.recipe();
    for (const n of NODES) sentinelAnswer[n] = sentinelView('n1');
    redisAnswer.n1 = redisRole('master', asPrimary(2));
    redisAnswer.n2 = redisRole('slave', asReplica('n1'));
    expect(await recipe.healthy(addresses.n1)).toBe(true);
    expect(await recipe.healthy(addresses.n2)).toBe(true);
    // The primary with one replica connected of the two its sentinel knows.
    redisAnswer.n1 = redisRole('master', asPrimary(1));
    expect(await recipe.healthy(addresses.n1)).toBe(false);
    // A replica whose link is down, or following another primary than its sentinel names.
    redisAnswer.n2 = redisRole('slave', asReplica('n1', 'down'));
    expect(await recipe.healthy(addresses.n2)).toBe(false);
    redisAnswer.n2 = redisRole('slave', asReplica('n3'));
    expect(await recipe.healthy(addresses.n2)).toBe(false);
    redisAnswer.n2 = redisRole('slave', asReplica('n1'));
    // The sentinel sees a replica or another sentinel down, or the primary subjectively down.
    for (const flags of [
      { replica: 'slave,s_down' },
      { sentinel: 'sentinel,disconnected' },
      { master: 'master,s_down' },
    ]) {
      sentinelAnswer.n2 = sentinelView('n1', flags);
      expect(await recipe.healthy(addresses.n2), JSON.stringify(flags)).toBe(false);
    }
    sentinelAnswer.n2 = () => 'drop';
    expect(await recipe.healthy(addresses.n2)).toBe(false);
    expect(await recipe.healthy({ host: hostOf('n3'), port: 1 })).toBe(false);
  });

  it('the leader hook names the node most sentinels name, if its ROLE says master', async () => {
    const view = {
      nodes: [...NODES],
      clientAddress: (n: string) => addresses[n as N],
      signal: new AbortController().signal,
    };
    for (const n of NODES) sentinelAnswer[n] = sentinelView('n1');
    redisAnswer.n1 = redisRole('master', asPrimary());
    expect(await redis.leader?.(view)).toBe('n1');
    // n1 cut off, still naming itself; the other two have failed over to n2.
    sentinelAnswer.n2 = sentinelView('n2');
    sentinelAnswer.n3 = sentinelView('n2');
    redisAnswer.n2 = redisRole('master', asPrimary());
    expect(await redis.leader?.(view)).toBe('n2');
    // Named, but not (yet) a primary by its own word.
    redisAnswer.n2 = redisRole('slave', asReplica('n1'));
    expect(await redis.leader?.(view)).toBeUndefined();
    for (const n of NODES) sentinelAnswer[n] = () => 'drop';
    expect(await redis.leader?.(view)).toBeUndefined();
  });

  it('runs on docker only; settings are checked, with their defaults', () => {
    expect(redis.backends).toEqual(['docker']);
    expect(redis.checkSettings?.({ wait: 'one' })).toMatch(/wait/);
    expect(redis.checkSettings?.({ route: 'anywhere' })).toMatch(/route/);
    expect(redis.checkSettings?.({ replicas: '2' })).toMatch(/no setting replicas/);
    expect(redis.checkSettings?.({ wait: '1', 'min-replicas-to-write': '1' })).toBeUndefined();
    expect(redis.settingDefaults?.()).toEqual({
      'down-after-milliseconds': 2000,
      'failover-timeout': 6000,
      'min-replicas-to-write': 0,
      'min-replicas-max-lag': 10,
      wait: 0,
      'wait-timeout': 1000,
      route: 'sentinel',
    });
    expect(redis.preflight?.()).toBeUndefined();
    expect(Object.keys(redis.clients).sort()).toEqual([
      'list-append',
      'register',
      'replica-set',
      'rw-register',
      'set',
    ]);
  });

  it('starts the first node as primary, the others as its replicas, a sentinel beside each', () => {
    const launch = redis.recipe().docker?.launch?.({
      node: 'n2',
      listen: { host: '10.0.0.12', port: 8000 },
      peerListen: { host: '10.0.0.12', port: 8001 },
      peers: { n1: { host: '10.0.0.11', port: 8001 }, n3: { host: '10.0.0.13', port: 8001 } },
      pool: { n1: { host: '10.0.0.11', port: 8001 }, n3: { host: '10.0.0.13', port: 8001 } },
      joining: false,
      dataDir: '/data/n2',
      settings: { 'min-replicas-to-write': '1', 'down-after-milliseconds': '3000' },
    });
    expect(launch?.command).toBe('/bin/sh');
    const script = launch?.args[1] ?? '';
    expect(launch?.args[0]).toBe('-c');
    expect(script).toContain(`${REDIS_SERVER} /data/n2/sentinel.conf --sentinel &`);
    expect(script).toContain(`exec ${REDIS_SERVER} /data/n2/redis.conf`);
    // Written on the first start only: what the sentinels rewrite survives a restart.
    expect(script).toContain('[ -f /data/n2/redis.conf ] ||');
    const all = {
      n1: { host: '10.0.0.11', port: 8000 },
      n2: { host: '10.0.0.12', port: 8000 },
      n3: { host: '10.0.0.13', port: 8000 },
    };
    const c = nodeConfigs(
      'n2',
      all,
      '/data/n2',
      redisSettings.parse({ 'min-replicas-to-write': '1', 'down-after-milliseconds': '3000' }),
    );
    expect(script).toContain(c.redis.split('\n')[0]);
    expect(c.redis).toContain('replicaof 10.0.0.11 8000\n');
    expect(c.redis).toContain('min-replicas-to-write 1\n');
    expect(c.redis).toContain('appendfsync always\n');
    expect(nodeConfigs('n1', all, '/data/n1', redisSettings.parse({})).redis).not.toContain(
      'replicaof',
    );
    expect(c.sentinel).toContain(`sentinel monitor ${MASTER_NAME} 10.0.0.11 8000 2\n`);
    expect(c.sentinel).toContain(`sentinel down-after-milliseconds ${MASTER_NAME} 3000\n`);
    expect(c.sentinel).toContain(`sentinel known-replica ${MASTER_NAME} 10.0.0.13 8000\n`);
    expect(c.sentinel).toContain(
      `sentinel known-sentinel ${MASTER_NAME} 10.0.0.11 ${SENTINEL_PORT} ${sentinelId('n1')}\n`,
    );
    expect(c.sentinel).not.toContain(`known-sentinel ${MASTER_NAME} 10.0.0.12`);
    expect(c.sentinel).toContain(`sentinel myid ${sentinelId('n2')}\n`);
  });
});
