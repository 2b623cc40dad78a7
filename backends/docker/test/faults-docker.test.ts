import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StandinClient } from '../../testing/standin.js';
import type { DockerCluster } from '../docker-backend.js';
import { connectDocker, execIn, execOk } from '../engine.js';
import { describeObjectsOfRun } from '../labels.js';
import { standinCluster } from './standin-image.js';

const DATAGRAMS = 2000;

/** Retry `probe` until it returns true or `ms` elapse. */
async function eventually(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await probe()) return true;
    } catch {
      // not yet
    }
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * UDP receiver (in n2): answers PING with READY, counts DATA, prints the count on END.
 * Sender (in n1): PINGs until READY (so it never sends before the receiver listens), sends
 * DATAGRAMS numbered datagrams, paced (10 per 5 ms) so the receiver's socket buffer does not
 * overflow even when it is slow to be scheduled, then END many times
 * (some END may be lost too). Loss only applies to n1's outgoing traffic, so READY arrives.
 */
const RECEIVER = `
const s = require('dgram').createSocket('udp4');
const seen = new Set();
s.on('message', (m, from) => {
  const t = m.toString();
  if (t === 'PING') s.send('READY', from.port, from.address);
  else if (t === 'END') { console.log(seen.size); process.exit(0); }
  else seen.add(t);
});
s.bind(9000, process.argv[1]);
setTimeout(() => { console.log('timeout ' + seen.size); process.exit(1); }, 60000);
`;
const SENDER = `
const s = require('dgram').createSocket('udp4');
const [to, n] = [process.argv[1], Number(process.argv[2])];
let ready = false;
s.on('message', (m) => { if (m.toString() === 'READY') ready = true; });
s.bind(0, () => {
  const ping = setInterval(() => { if (!ready) s.send('PING', 9000, to); }, 50);
  const waitReady = setInterval(async () => {
    if (!ready) return;
    clearInterval(ping); clearInterval(waitReady);
    for (let i = 0; i < n; i++) {
      await new Promise((r) => s.send(String(i), 9000, to, r));
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    for (let i = 0; i < 40; i++) { s.send('END', 9000, to); await new Promise((r) => setTimeout(r, 10)); }
    s.close();
  }, 20);
});
`;

/**
 * TCP receiver (in n2): counts the bytes of one connection and prints `<bytes> <ms>`, the ms
 * from its first byte to its end. Sender (in n1): retries connecting until the receiver
 * listens, writes the bytes, ends.
 */
const TCP_RECEIVER = `
const srv = require('net').createServer((c) => {
  let bytes = 0; let t0 = 0;
  c.on('data', (b) => { if (bytes === 0) t0 = performance.now(); bytes += b.length; });
  c.on('end', () => { console.log(bytes + ' ' + (performance.now() - t0)); process.exit(0); });
});
srv.listen(9100, process.argv[1]);
setTimeout(() => { console.log('timeout'); process.exit(1); }, 60000);
`;
const TCP_SENDER = `
const [to, n] = [process.argv[1], Number(process.argv[2])];
const attempt = () => {
  const c = require('net').connect(9100, to, () => c.end(Buffer.alloc(n, 7)));
  c.on('error', () => setTimeout(attempt, 50));
};
attempt();
`;

describe('docker faults inside the containers', () => {
  let docker: Dockerode;
  // Unset while beforeAll has not got that far (afterAll runs all the same).
  let cluster: DockerCluster;
  let logsDir: string;
  const runId = `faults-${process.pid}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    docker = await connectDocker();
    logsDir = mkdtempSync(join(tmpdir(), 'faultline-docker-faults-'));
    cluster = (await standinCluster(runId, logsDir)) as DockerCluster;
  });
  afterAll(async () => {
    try {
      await cluster?.teardown();
    } finally {
      if (logsDir) rmSync(logsDir, { recursive: true, force: true });
    }
  });

  /** The fraction of DATAGRAMS sent by n1 that n2 did not receive. */
  async function measuredLoss(): Promise<number> {
    const n2 = cluster.clientAddress('n2').host;
    const [received] = await Promise.all([
      execOk(docker, cluster.containerId('n2'), ['node', '-e', RECEIVER, n2], 'udp receiver'),
      execOk(
        docker,
        cluster.containerId('n1'),
        ['node', '-e', SENDER, n2, String(DATAGRAMS)],
        'udp sender',
      ),
    ]);
    return 1 - Number(received.trim()) / DATAGRAMS;
  }

  /** Throughput n1 → n2 over one TCP connection carrying `bytes`, kbit/s. */
  async function measuredKbit(bytes: number): Promise<number> {
    const n2 = cluster.clientAddress('n2').host;
    const [out] = await Promise.all([
      execOk(docker, cluster.containerId('n2'), ['node', '-e', TCP_RECEIVER, n2], 'tcp receiver'),
      execOk(
        docker,
        cluster.containerId('n1'),
        ['node', '-e', TCP_SENDER, n2, String(bytes)],
        'tcp sender',
      ),
    ]);
    const [got, ms] = out.trim().split(' ').map(Number) as [number, number];
    expect(got).toBe(bytes);
    return (got * 8) / ms; // bits per ms = kbit/s
  }

  const qdiscs = () =>
    execOk(docker, cluster.netContainerId('n1'), ['tc', 'qdisc', 'show', 'dev', 'eth0'], 'tc');

  it('limits the bandwidth leaving a node (tc tbf), and the limit goes with the link fault', async () => {
    await cluster.setLink('n1', { rateKbit: 4000 });
    expect(await qdiscs()).toMatch(/qdisc tbf 1: root .*rate 4Mbit/);
    // 1.5 MB at 4 Mbit/s: about 3 s. A loaded machine can only make it slower, never faster.
    const limited = await measuredKbit(1_500_000);
    expect(limited).toBeLessThan(4000 * 1.2);
    expect(limited).toBeGreaterThan(4000 * 0.4);
    await cluster.setLink('n1', {});
    expect(await qdiscs()).not.toMatch(/tbf/);
    expect(await measuredKbit(1_500_000)).toBeGreaterThan(4000 * 3);
  });

  it('probes netem once at start, records it, and carries link faults the way the probe allows', async () => {
    // An independent probe, on the loopback of the same network namespace.
    const own = await execIn(docker, cluster.netContainerId('n1'), [
      'sh',
      '-c',
      'tc qdisc add dev lo root netem delay 0ms && tc qdisc del dev lo root',
    ]);
    const expected = own.exitCode === 0 ? 'present' : 'absent';
    expect(cluster.netem).toBe(expected);
    expect(readFileSync(join(logsDir, 'n1', 'stdout.log'), 'utf8')).toContain(
      `--- faultline: netem ${expected}`,
    );
    await cluster.setLink('n1', { loss: 0.2, rateKbit: 2000 });
    const linkChain = () =>
      execOk(docker, cluster.netContainerId('n1'), ['iptables', '-S', 'faultline-link'], 'chain');
    if (expected === 'absent') {
      // Fallback: loss in iptables, the bandwidth limit alone in tc.
      expect(await linkChain()).toMatch(/statistic --mode random --probability 0\.2/);
      const q = await qdiscs();
      expect(q).toMatch(/qdisc tbf 1: root .*rate 2Mbit/);
      expect(q).not.toMatch(/netem/);
    } else {
      expect(await linkChain()).not.toMatch(/statistic/);
      expect(await qdiscs()).toMatch(
        /qdisc netem 1: root .*loss 20%[\s\S]*qdisc tbf 10: parent 1:1/,
      );
    }
    await cluster.setLink('n1', {});
    expect(await linkChain()).not.toMatch(/statistic/);
    expect(await qdiscs()).not.toMatch(/tbf|netem/);
  });

  it('drops about the asked fraction of what leaves a node (iptables statistic), and clears', async () => {
    await cluster.setLink('n1', { loss: 0.3 });
    const lossy = await measuredLoss();
    // 2000 draws at p = 0.3: a standard deviation of about 0.01.
    expect(lossy).toBeGreaterThan(0.22);
    expect(lossy).toBeLessThan(0.38);
    await cluster.setLink('n1', {});
    expect(await measuredLoss()).toBeLessThan(0.05);
  });

  it('partitions in faultline chain only, leaving the nat table as it was', async () => {
    const net = cluster.netContainerId('n1');
    const nat = () => execOk(docker, net, ['iptables', '-t', 'nat', '-S'], 'nat rules');
    const natBefore = await nat();
    await cluster.partition({ n1: ['n2'], n2: ['n1'] });
    const chain = await execOk(docker, net, ['iptables', '-S', 'faultline'], 'chain');
    expect(chain).toContain(`-A faultline -s ${cluster.clientAddress('n2').host}/32 -j DROP`);
    expect(await nat()).toBe(natBefore);
    await cluster.heal();
    expect((await execOk(docker, net, ['iptables', '-S', 'faultline'], 'chain')).trim()).toBe(
      '-N faultline',
    );
    expect(await nat()).toBe(natBefore);
  });

  it('partitions a paused node, kills it while paused, and keeps its rules across start', async () => {
    const client = (n: string) => new StandinClient(cluster.clientAddress(n));
    await cluster.pause('n2');
    // The rules go into n2's network container while n2 itself is frozen.
    await cluster.partition({ n2: ['n1'], n1: ['n2'] });
    await cluster.kill('n2');
    // The node container is really down (the engine refuses an exec into it).
    const exec = await execIn(docker, cluster.containerId('n2'), ['node', '-e', '0']).then(
      (r) => r.exitCode,
      (e: unknown) => String(e),
    );
    expect(exec).toMatch(/not running/);
    await cluster.start('n2');
    expect((await client('n2').send('n1', 1024, { timeoutMs: 800 })).echoed).toBe(0);
    await cluster.heal();
    expect((await client('n2').send('n1', 1024, { timeoutMs: 3000 })).echoed).toBe(1024);
  });

  it('moves Date.now() in a node by the offset, back and forth (strobe), then resets', async () => {
    const skew = async () =>
      (await new StandinClient(cluster.clientAddress('n1')).health()).now - Date.now();
    for (const offset of [-90_000, 45_000, -90_000, 0]) {
      await cluster.setClock('n1', offset);
      expect(Math.abs((await skew()) - offset)).toBeLessThan(5_000);
    }
    // The other node's clock never moved.
    const other = (await new StandinClient(cluster.clientAddress('n2')).health()).now - Date.now();
    expect(Math.abs(other)).toBeLessThan(5_000);
  });

  it('delays what leaves a node, also on connections opened before, and partitions still cut', async () => {
    const n1 = new StandinClient(cluster.clientAddress('n1'));
    expect((await n1.send('n2', 1024, { conn: 'keep' })).echoed).toBe(1024);
    await cluster.setLink('n2', { delayMs: 500, jitterMs: 50 });
    // The kept connection is reset and reopened through the delay proxy: n2's echo is late.
    const delayed = await eventually(async () => {
      const t0 = performance.now();
      const r = await n1.send('n2', 1024, { conn: 'keep', timeoutMs: 5000 });
      return r.echoed === 1024 && performance.now() - t0 >= 480;
    }, 15_000);
    expect(delayed).toBe(true);
    await cluster.partition({ n1: ['n2'], n2: ['n1'] });
    expect((await n1.send('n2', 1024, { timeoutMs: 1500 })).echoed).toBe(0);
    await cluster.heal();
    await cluster.setLink('n2', {});
    expect(
      await eventually(
        async () => (await n1.send('n2', 1024, { timeoutMs: 3000 })).echoed === 1024,
        10_000,
      ),
    ).toBe(true);
  });

  it('teardown removes every container and the network', async () => {
    expect((await describeObjectsOfRun(docker, runId)).length).toBe(5);
    await cluster.teardown();
    expect(await describeObjectsOfRun(docker, runId)).toEqual([]);
  });
});
