import { afterEach, describe, expect, it } from 'vitest';
import { IMAGE_JAVA_HOME, ZOOKEEPER_JARS } from './runtime.js';
import { serverIds, zookeeper, zookeeperSystem } from './system.js';
import { type FakeZookeeper, fakeZookeeper } from './test/fake-zookeeper.js';

const fakes: FakeZookeeper[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

describe('zookeeper system', () => {
  it('runs on docker only, as zookeeper and zookeeper-sync, with its settings and defaults', () => {
    expect(zookeeper.name).toBe('zookeeper');
    expect(zookeeperSystem({ reads: 'sync' }).name).toBe('zookeeper-sync');
    expect(zookeeper.backends).toEqual(['docker']);
    expect(Object.keys(zookeeper.clients).sort()).toEqual(['register', 'replica-set', 'set']);
    expect(zookeeper.recipe().clockFaults).toBe(false);
    expect(zookeeper.settingDefaults?.()).toEqual({
      'tick-time': 500,
      'init-limit': 20,
      'sync-limit': 4,
      'heap-mb': 256,
    });
    expect(zookeeper.checkSettings?.({ 'tick-time': 'soon' })).toMatch(/tick-time/);
    expect(zookeeper.checkSettings?.({ reads: 'sync' })).toMatch(/no setting reads/);
  });

  it('numbers servers by node name, the same on every node', () => {
    expect([...serverIds(['n10', 'n2', 'n1'])]).toEqual([
      ['n1', 1],
      ['n2', 2],
      ['n10', 3],
    ]);
  });

  it('writes myid and zoo.cfg with every server at its peer address, then starts the JVM', () => {
    const launch = zookeeper.recipe().docker?.launch?.({
      node: 'n2',
      listen: { host: '10.0.0.12', port: 8000 },
      peerListen: { host: '10.0.0.12', port: 8001 },
      peers: { n1: { host: '10.0.0.11', port: 8001 }, n3: { host: '10.0.0.13', port: 8001 } },
      pool: { n1: { host: '10.0.0.11', port: 8001 }, n3: { host: '10.0.0.13', port: 8001 } },
      joining: false,
      dataDir: '/data/n2',
      settings: { 'tick-time': '400' },
    });
    expect(launch?.command).toBe('/bin/sh');
    expect(launch?.args[0]).toBe('-c');
    const script = launch?.args[1] ?? '';
    expect(script).toContain('echo 2 > /data/n2/myid');
    const cfg = /<<'ZOOCFG'\n([\s\S]*?)ZOOCFG/.exec(script)?.[1];
    expect(cfg?.split('\n')).toEqual([
      'tickTime=400',
      'initLimit=20',
      'syncLimit=4',
      'dataDir=/data/n2',
      'clientPort=8000',
      'clientPortAddress=10.0.0.12',
      '4lw.commands.whitelist=srvr,mntr,ruok',
      'admin.enableServer=false',
      'preAllocSize=4096',
      'server.1=10.0.0.11:8001:8002',
      'server.2=10.0.0.12:8001:8002',
      'server.3=10.0.0.13:8001:8002',
      '',
    ]);
    expect(script).toMatch(
      new RegExp(
        `\\nexec ${IMAGE_JAVA_HOME}/bin/java -Xmx256m .* -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar org.apache.zookeeper.server.quorum.QuorumPeerMain /data/n2/zoo.cfg$`,
      ),
    );
    const image = zookeeper.recipe().docker?.image;
    expect(image?.files?.map((f) => f.to)).toEqual([IMAGE_JAVA_HOME, ...ZOOKEEPER_JARS]);
  });

  it('is healthy as leader or follower; the leader hook names the node whose srvr says leader', async () => {
    const [a, b, c] = await Promise.all([fakeZookeeper(), fakeZookeeper(), fakeZookeeper()]);
    fakes.push(a!, b!, c!);
    const recipe = zookeeper.recipe();
    a!.mode = undefined; // not serving: no quorum
    expect(await recipe.healthy(a!.address)).toBe(false);
    expect(await recipe.healthy(b!.address)).toBe(true);
    c!.mode = 'leader';
    expect(await recipe.healthy(c!.address)).toBe(true);
    expect(await recipe.healthy({ host: '127.0.0.1', port: 1 })).toBe(false);
    const addresses: Record<string, { host: string; port: number }> = {
      n1: { host: '127.0.0.1', port: 1 }, // down: skipped
      n2: b!.address,
      n3: c!.address,
    };
    const view = {
      nodes: ['n1', 'n2', 'n3'],
      clientAddress: (n: string) => addresses[n]!,
      signal: AbortSignal.timeout(5000),
    };
    expect(await zookeeper.leader?.(view)).toBe('n3');
    c!.mode = 'follower';
    expect(await zookeeper.leader?.(view)).toBeUndefined();
  });
});
