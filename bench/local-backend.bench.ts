/**
 * The local backend: how fast a 5-node cluster is ready (target ≤ 1 s), and what the peer proxy
 * costs (bulk throughput and request/response round trips, through a proxy vs direct).
 */

import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalBackend } from '../backends/local/local-backend.js';
import { ProxyMesh } from '../backends/local/mesh.js';
import { processesOfRun } from '../backends/local/registry.js';
import { standinRecipe } from '../backends/testing/standin.js';
import type { HostPort, SystemRecipe } from '../core/cluster.js';

export const name = 'local backend: cluster ready time, proxy overhead';

const READY_TARGET_MS = 1000;

async function systemsUnderBench(): Promise<{ label: string; recipe: SystemRecipe }[]> {
  // The stand-in starts in tens of ms: its number is the backend's own overhead.
  const systems = [{ label: 'stand-in (backend overhead)', recipe: standinRecipe() }];
  const dist = fileURLToPath(
    new URL('../cluster-images/leaderless/dist/leaderless.js', import.meta.url),
  );
  if (existsSync(dist)) {
    const { leaderlessRecipe } = await import('../cluster-images/leaderless/system.js');
    systems.push({ label: 'leaderless store', recipe: leaderlessRecipe(dist) });
  } else {
    console.log(
      'leaderless store: cluster-images/leaderless/dist/leaderless.js not built, skipped',
    );
  }
  return systems;
}

async function readyTime(label: string, recipe: SystemRecipe): Promise<void> {
  const backend = createLocalBackend();
  const logsDir = mkdtempSync(join(tmpdir(), 'faultline-bench-logs-'));
  const ready: number[] = [];
  const down: number[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const runId = `bench-${process.pid}-${i}`;
      const t0 = performance.now();
      const cluster = await backend.createCluster({
        runId,
        recipe,
        nodes: ['n1', 'n2', 'n3', 'n4', 'n5'],
        settings: {},
        logsDir,
        startTimeoutMs: 20_000,
      });
      const t1 = performance.now();
      await cluster.teardown();
      const t2 = performance.now();
      if (processesOfRun(runId).length > 0) throw new Error(`run ${runId} left processes`);
      if (i > 0) {
        // the first run warms the OS file cache for node and the script
        ready.push(t1 - t0);
        down.push(t2 - t1);
      }
    }
  } finally {
    rmSync(logsDir, { recursive: true, force: true });
  }
  ready.sort((a, b) => a - b);
  const median = ready[Math.floor(ready.length / 2)] ?? Number.NaN;
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(
    `${label}: 5-node cluster ready (all healthy): median ${median.toFixed(0)} ms [${fmt(ready)}]; target ≤ ${READY_TARGET_MS} ms → ${(median / READY_TARGET_MS).toFixed(2)} of target; teardown [${fmt(down)}] ms`,
  );
}

/** A peer endpoint that counts what it receives, or echoes it. */
async function endpoint(
  mode: 'sink' | 'echo',
): Promise<{ server: Server; address: HostPort; got: () => number }> {
  let got = 0;
  const server = createServer((s) => {
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (mode === 'echo') s.write(c);
    });
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('no address');
  return { server, address: { host: '127.0.0.1', port: a.port }, got: () => got };
}

async function dial(to: HostPort): Promise<Socket> {
  const s = connect({ ...to, noDelay: true });
  await once(s, 'connect');
  return s;
}

/** Bytes/s of one connection writing `total` bytes until the sink has them all. */
async function throughput(to: HostPort, got: () => number, total: number): Promise<number> {
  const s = await dial(to);
  const start = got();
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    sent += chunk.length;
    if (!s.write(chunk)) await once(s, 'drain');
  }
  while (got() - start < total) await new Promise((r) => setImmediate(r));
  const secs = (performance.now() - t0) / 1000;
  s.destroy();
  return total / secs;
}

/** Mean round trip of a 100-byte request echoed back, over `n` sequential exchanges. */
async function roundTrip(to: HostPort, n: number): Promise<number> {
  const s = await dial(to);
  const msg = Buffer.alloc(100, 0x62);
  let pending = 0;
  let wake: (() => void) | undefined;
  s.on('data', (c: Buffer) => {
    pending -= c.length;
    if (pending <= 0) wake?.();
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    pending = msg.length;
    const done = new Promise<void>((r) => {
      wake = r;
    });
    s.write(msg);
    await done;
  }
  const us = ((performance.now() - t0) * 1000) / n;
  s.destroy();
  return us;
}

async function proxyOverhead(): Promise<void> {
  const sink = await endpoint('sink');
  const echo = await endpoint('echo');
  const targets: Record<string, HostPort> = { a: sink.address, b: sink.address, c: echo.address };
  const mesh = await ProxyMesh.create({
    nodes: ['a', 'b', 'c'],
    host: '127.0.0.1',
    target: (n) => targets[n] as HostPort,
  });
  try {
    const total = 512 * 1024 * 1024;
    const viaProxy = mesh.peersFor('a').b as HostPort;
    // Warm up both paths, then alternate to spread the shared machine's noise.
    await throughput(sink.address, sink.got, 32 * 1024 * 1024);
    await throughput(viaProxy, sink.got, 32 * 1024 * 1024);
    const direct: number[] = [];
    const proxied: number[] = [];
    for (let i = 0; i < 3; i++) {
      direct.push(await throughput(sink.address, sink.got, total));
      proxied.push(await throughput(viaProxy, sink.got, total));
    }
    const best = (xs: number[]) => Math.max(...xs);
    const mb = (x: number) => `${(x / 1024 / 1024).toFixed(0)} MiB/s`;
    console.log(
      `bulk throughput, one connection (best of 3 × 512 MiB): direct ${mb(best(direct))}, through a proxy ${mb(best(proxied))} → ratio ${(best(proxied) / best(direct)).toFixed(2)}`,
    );
    const rttDirect = await roundTrip(echo.address, 5000);
    const rttProxy = await roundTrip(mesh.peersFor('a').c as HostPort, 5000);
    console.log(
      `request/response round trip (100 B, 5000 sequential): direct ${rttDirect.toFixed(0)} µs, through a proxy ${rttProxy.toFixed(0)} µs → +${(rttProxy - rttDirect).toFixed(0)} µs per exchange`,
    );
    mesh.setGrudge({ b: ['a'] });
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) mesh.setGrudge(i % 2 === 0 ? {} : { b: ['a'] });
    console.log(
      `applying a partition to the mesh: ${(((performance.now() - t0) * 1000) / 1000).toFixed(1)} µs each`,
    );
  } finally {
    await mesh.close();
    sink.server.close();
    echo.server.close();
  }
}

export async function run(): Promise<void> {
  console.log('(shared 2-core machine: numbers are noisy)');
  for (const { label, recipe } of await systemsUnderBench()) await readyTime(label, recipe);
  await proxyOverhead();
}
