import { describe, expect, it } from 'vitest';
import { ConfigError, envName, parseConfig, SETTINGS } from './config.js';

const base = [
  '--id',
  'n1',
  '--listen',
  '127.0.0.1:8001',
  '--peer-listen',
  '127.0.0.1:9001',
  '--peers',
  'n1=127.0.0.1:9001,n2=127.0.0.1:9002,n3=127.0.0.1:9003',
  '--data-dir',
  '/tmp/x',
];

function errorOf(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const c = parseConfig(base, {});
    expect(c).toMatchObject({
      id: 'n1',
      n: 3,
      r: 2,
      w: 2,
      conflict: 'lww',
      storage: 'disk',
      fsync: 'always',
      readRepair: true,
      hintedHandoff: true,
      members: ['n1', 'n2', 'n3'],
    });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8001 });
    expect(c.peers.get('n3')).toEqual({ host: '127.0.0.1', port: 9003 });
  });

  it('reads every setting from the environment, with flags taking precedence', () => {
    const env = {
      LEADERLESS_N: '2',
      LEADERLESS_R: '1',
      LEADERLESS_READ_REPAIR: 'off',
      LEADERLESS_W: '1',
    };
    const c = parseConfig([...base, '--w', '2'], env);
    expect(c).toMatchObject({ n: 2, r: 1, w: 2, readRepair: false });
    const onlyEnv = parseConfig([], {
      LEADERLESS_ID: 'n2',
      LEADERLESS_LISTEN: 'localhost:1',
      LEADERLESS_PEER_LISTEN: 'localhost:2',
      LEADERLESS_PEERS: 'n1=a:1,n2=b:2',
      LEADERLESS_DATA_DIR: 'd',
      LEADERLESS_N: '2',
    });
    expect(onlyEnv).toMatchObject({ id: 'n2', n: 2, r: 2, w: 2, members: ['n1', 'n2'] });
  });

  it('has an environment variable for every flag', () => {
    for (const flag of Object.keys(SETTINGS)) expect(envName(flag)).toMatch(/^LEADERLESS_[A-Z_]+$/);
    expect(envName('anti-entropy-interval')).toBe('LEADERLESS_ANTI_ENTROPY_INTERVAL');
  });

  it('names the flag in every error', () => {
    expect(errorOf([...base, '--n', 'three'])).toMatch(/--n/);
    expect(errorOf([...base, '--r', '4'])).toMatch(/--r/);
    expect(errorOf([...base, '--conflict', 'crdt'])).toMatch(/--conflict/);
    expect(errorOf([...base, '--fsync', 'sometimes'])).toMatch(/--fsync/);
    expect(errorOf([...base, '--read-repair', 'yes'])).toMatch(/--read-repair/);
    expect(errorOf([...base, '--n', '5'])).toMatch(/--n 5/);
    expect(errorOf([...base, '--listen', 'nohost'])).toMatch(/--listen/);
    expect(errorOf([...base, '--peers', 'n1=a:1,n1=b:2'])).toMatch(/--peers.*twice/);
    expect(errorOf([...base, '--bogus', '1'])).toMatch(/bogus/);
    expect(errorOf(base.slice(2))).toMatch(/--id/);
    expect(errorOf(base, { LEADERLESS_VNODES: '0' })).toMatch(/--vnodes/);
  });
});

describe('peer and client limits settings', () => {
  it('reads the cluster secret and the client port bounds, with their defaults', () => {
    expect(parseConfig(base, {})).toMatchObject({
      clusterSecret: undefined,
      maxConnections: 2048,
      maxBufferedBytes: 64 * 1024 * 1024,
      readTimeoutMs: 10_000,
    });
    const c = parseConfig([...base, '--max-connections', '10', '--read-timeout', '500'], {
      LEADERLESS_CLUSTER_SECRET: 'swordfish',
      LEADERLESS_MAX_BUFFERED: '2000000',
    });
    expect(c).toMatchObject({
      clusterSecret: 'swordfish',
      maxConnections: 10,
      maxBufferedBytes: 2_000_000,
      readTimeoutMs: 500,
    });
  });

  it('refuses a buffer budget smaller than the largest body, and an empty secret', () => {
    expect(errorOf([...base, '--max-buffered', '1000'])).toMatch(/--max-buffered/);
    expect(errorOf([...base, '--cluster-secret', ''])).toMatch(/--cluster-secret/);
  });
});

describe('parseConfig: runtime membership', () => {
  it('without --pool or --join: the pool is --peers, this node is an initial member, streaming on', () => {
    const c = parseConfig(base, {});
    expect([...c.pool.keys()].sort()).toEqual(['n1', 'n2', 'n3']);
    expect(c.members).toEqual(['n1', 'n2', 'n3']);
    expect(c).toMatchObject({ join: false, handoffStreaming: true });
  });

  it('--join on: the node is not an initial member; --pool adds addresses', () => {
    const c = parseConfig(
      [
        ...base.map((a) => (a === 'n1' ? 'n4' : a)),
        '--pool',
        'n4=127.0.0.1:9004,n5=127.0.0.1:9005',
        '--join',
        'on',
        '--handoff-streaming',
        'off',
      ],
      {},
    );
    expect(c.id).toBe('n4');
    expect(c.members).toEqual(['n1', 'n2', 'n3']);
    expect([...c.pool.keys()].sort()).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(c.pool.get('n2')).toEqual({ host: '127.0.0.1', port: 9002 });
    expect(c).toMatchObject({ join: true, handoffStreaming: false });
  });

  it('refuses bad values', () => {
    expect(errorOf([...base, '--join', 'yes'])).toMatch(/--join/);
    expect(errorOf([...base, '--pool', 'n9'])).toMatch(/--pool/);
    expect(errorOf([...base, '--handoff-streaming', 'maybe'])).toMatch(/--handoff-streaming/);
  });
});
