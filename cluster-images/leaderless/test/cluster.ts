/**
 * Multi-process test/bench support: builds the bundle, starts N real node processes on loopback
 * with free ports and temp data dirs, and tears everything down (processes and dirs) on stop().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reservePorts } from '../../../backends/local/ports.js';

/** LEADERLESS_BUNDLE runs an already-built bundle elsewhere (e.g. a work-in-progress build). */
export const BUNDLE =
  process.env.LEADERLESS_BUNDLE ?? fileURLToPath(new URL('../dist/leaderless.js', import.meta.url));

let built: Promise<void> | undefined;
/** Bundles the node once per process (esbuild, well under a second). */
export function buildBundle(): Promise<void> {
  if (process.env.LEADERLESS_BUNDLE) return Promise.resolve();
  built ??= import(fileURLToPath(new URL('../build.mjs', import.meta.url))).then(() => undefined);
  return built;
}

/**
 * A port free now, below the kernel's ephemeral range (the local backend's rule): a port the
 * kernel handed out with listen(0) is in that range, and any outgoing connection of a parallel
 * test could take it as its local port before the node binds it (seen: EADDRINUSE at start).
 * A random starting point spreads parallel test files over the range.
 */
export async function freePort(): Promise<number> {
  const [port] = await reservePorts(1, {
    host: '127.0.0.1',
    startHint: Math.floor(Math.random() * 1_000_000_000),
  });
  if (port === undefined) throw new Error('no free port below the ephemeral range');
  return port;
}

export interface TestNode {
  id: string;
  url: string;
  port: number;
  peerPort: number;
  dataDir: string;
  proc: ChildProcess | undefined;
  output: string[];
  start(): Promise<number>;
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns a node process with `args`, as `node`'s process, keeping its last output lines. */
export function spawnNode(node: TestNode, args: string[], env?: Record<string, string>) {
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  node.proc = proc;
  const keep = (d: Buffer) => {
    node.output.push(d.toString());
    if (node.output.length > 2000) node.output.splice(0, 1000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return proc;
}

/** Signals `node`'s process (if it runs) and waits for it to exit. */
export async function killNode(node: TestNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const proc = node.proc;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill(signal);
  await exited;
}

export interface Cluster {
  nodes: TestNode[];
  root: string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  size: number;
  args?: string[];
  env?: Record<string, string>;
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  await buildBundle();
  const root = mkdtempSync(join(tmpdir(), 'leaderless-test-'));
  const specs: Array<{ id: string; port: number; peerPort: number }> = [];
  for (let i = 1; i <= opts.size; i++) {
    specs.push({ id: `n${i}`, port: await freePort(), peerPort: await freePort() });
  }
  const peers = specs.map((s) => `${s.id}=127.0.0.1:${s.peerPort}`).join(',');
  const nodes: TestNode[] = specs.map((s) => {
    const node: TestNode = {
      ...s,
      url: `http://127.0.0.1:${s.port}`,
      dataDir: join(root, s.id),
      proc: undefined,
      output: [],
      async start() {
        const t0 = performance.now();
        const args = [
          // LEADERLESS_NODE_ARGS: extra node flags, e.g. --cpu-prof for profiling a bench run
          ...(process.env.LEADERLESS_NODE_ARGS ?? '').split(' ').filter(Boolean),
          BUNDLE,
          '--id',
          s.id,
          '--listen',
          `127.0.0.1:${s.port}`,
          '--peer-listen',
          `127.0.0.1:${s.peerPort}`,
          '--peers',
          peers,
          '--data-dir',
          node.dataDir,
          ...(opts.args ?? []),
        ];
        const proc = spawnNode(node, args, opts.env);
        const end = Date.now() + 30_000;
        while (!(await statusAnswers(s.port))) {
          if (proc.exitCode !== null) throw new Error(`${s.id} exited: ${node.output.join('')}`);
          if (Date.now() > end) throw new Error(`${s.id} did not answer /admin/status within 30 s`);
          await new Promise((r) => setTimeout(r, 10));
        }
        return performance.now() - t0;
      },
      kill: (signal: NodeJS.Signals = 'SIGKILL') => killNode(node, signal),
    };
    return node;
  });
  const cluster: Cluster = {
    nodes,
    root,
    async stop() {
      // With node flags (e.g. --cpu-prof) close gracefully, so the process writes its profile.
      const signal = process.env.LEADERLESS_NODE_ARGS ? 'SIGTERM' : 'SIGKILL';
      await Promise.all(nodes.map((n) => n.kill(signal)));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await waitUntil(async () => {
      const views = await Promise.all(nodes.map((n) => status(n)));
      return views.every((v) => Object.values(v.members).every((m) => m.healthy));
    }, 30_000);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** One cheap probe (no keep-alive, no fetch warm-up): does /admin/status answer 200? */
function statusAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/admin/status', agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
  });
}

export interface StatusView {
  members: Record<string, { status: string; healthy: boolean; link: string }>;
  hints: { pending: Record<string, number>; delivered: number };
  antiEntropy: { rounds: number; recordsPulled: number; recordsPushed: number };
}

export async function status(node: TestNode): Promise<StatusView> {
  return (await (await fetch(`${node.url}/admin/status`)).json()) as StatusView;
}

export async function waitUntil(cond: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    let okNow = false;
    try {
      okNow = await cond();
    } catch (e) {
      if (e instanceof Error && /exited/.test(e.message)) throw e;
    }
    if (okNow) return;
    if (Date.now() > end) throw new Error(`condition not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export async function call(
  node: TestNode,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const init: RequestInit = { method, signal: AbortSignal.timeout(10_000) };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(node.url + path, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** One line of a node's /admin/replica stream, as sent. */
export interface ReplicaLine {
  type: string;
  key: string;
  owners: string[];
  hintFor?: string;
  view: unknown;
  raw: unknown;
}

export async function replicaLines(node: TestNode): Promise<ReplicaLine[]> {
  const text = await (await fetch(`${node.url}/admin/replica`)).text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ReplicaLine);
}

/** What a node itself stores (its /admin/replica stream), by `type/key`. */
export async function replicaContents(
  node: TestNode,
): Promise<Map<string, { view: unknown; raw: unknown }>> {
  const text = await (await fetch(`${node.url}/admin/replica`)).text();
  const out = new Map<string, { view: unknown; raw: unknown }>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const rec = JSON.parse(line) as {
      type: string;
      key: string;
      view: unknown;
      raw: unknown;
      hintFor?: string;
    };
    if (rec.hintFor !== undefined) continue; // held for another node, not stored here
    out.set(`${rec.type}/${rec.key}`, { view: rec.view, raw: rec.raw });
  }
  return out;
}
