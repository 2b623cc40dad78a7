/**
 * Multi-process support for membership tests: a pool of node specs (ports, data dirs), the first
 * `initial` started as the cluster (--peers = them, --pool = everyone), the others started later
 * with --join on and the members of the moment as --peers, as faultline's harness does.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUNDLE,
  buildBundle,
  call,
  freePort,
  killNode,
  spawnNode,
  type TestNode,
  waitUntil,
} from './cluster.js';

export interface Pool {
  nodes: TestNode[];
  byId(id: string): TestNode;
  /** Starts a node; `joining` passes --join on with `peers` (ids) as its --peers. */
  launch(id: string, opts?: { joining?: boolean; peers?: string[] }): Promise<void>;
  stop(): Promise<void>;
}

export interface MembershipView {
  status: string | null;
  members: Record<string, { status: string; version: number }>;
  readRing: string[];
  movePending: boolean;
  handoff: { phase: string; records: number; lastCompleted?: { records: number; ms: number } };
}

export async function membershipOf(node: TestNode): Promise<MembershipView> {
  const a = await call(node, 'GET', '/admin/membership');
  if (a.status !== 200) throw new Error(`/admin/membership: ${a.status}`);
  return a.body as unknown as MembershipView;
}

export async function startPool(opts: {
  size: number;
  initial: number;
  args?: string[];
}): Promise<Pool> {
  await buildBundle();
  const root = mkdtempSync(join(tmpdir(), 'leaderless-pool-'));
  const specs: Array<{ id: string; port: number; peerPort: number }> = [];
  for (let i = 1; i <= opts.size; i++) {
    specs.push({ id: `n${i}`, port: await freePort(), peerPort: await freePort() });
  }
  const addr = (id: string) => `${id}=127.0.0.1:${specs.find((s) => s.id === id)!.peerPort}`;
  const pool = specs.map((s) => addr(s.id)).join(',');
  const nodes: TestNode[] = specs.map((s) => {
    const node: TestNode = {
      ...s,
      url: `http://127.0.0.1:${s.port}`,
      dataDir: join(root, s.id),
      proc: undefined,
      output: [],
      start: () => Promise.reject(new Error('use pool.launch')),
      kill: (signal: NodeJS.Signals = 'SIGKILL') => killNode(node, signal),
    };
    return node;
  });
  const byId = (id: string) => nodes.find((n) => n.id === id)!;
  const initialIds = specs.slice(0, opts.initial).map((s) => s.id);
  const launch = async (id: string, o: { joining?: boolean; peers?: string[] } = {}) => {
    const node = byId(id);
    const peers = (o.peers ?? initialIds).map(addr).join(',');
    const args = [
      BUNDLE,
      '--id',
      id,
      '--listen',
      `127.0.0.1:${node.port}`,
      '--peer-listen',
      `127.0.0.1:${node.peerPort}`,
      '--peers',
      peers,
      '--pool',
      pool,
      '--data-dir',
      node.dataDir,
      ...(o.joining ? ['--join', 'on'] : []),
      ...(opts.args ?? []),
    ];
    const proc = spawnNode(node, args);
    await waitUntil(async () => {
      if (proc.exitCode !== null) throw new Error(`${id} exited: ${node.output.join('')}`);
      return (await fetch(`${node.url}/admin/status`)).status === 200;
    }, 30_000);
  };
  const result: Pool = {
    nodes,
    byId,
    launch,
    async stop() {
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(initialIds.map((id) => launch(id)));
    await waitUntil(async () => {
      for (const id of initialIds) {
        const st = (await (await fetch(`${byId(id).url}/admin/status`)).json()) as {
          members: Record<string, { healthy: boolean }>;
        };
        if (!Object.values(st.members).every((m) => m.healthy)) return false;
      }
      return true;
    }, 30_000);
  } catch (e) {
    await result.stop();
    throw e;
  }
  return result;
}

/** The current members as `node` sees them. */
export async function membersSeenBy(node: TestNode): Promise<string[]> {
  const v = await membershipOf(node);
  return Object.entries(v.members)
    .filter(([, m]) => m.status === 'member')
    .map(([id]) => id)
    .sort();
}

/** Waits until every listed node sees exactly `members` as members and no move pending. */
export async function waitSettled(nodes: TestNode[], members: string[], ms = 60_000) {
  await waitUntil(async () => {
    for (const n of nodes) {
      const v = await membershipOf(n);
      if (v.movePending) return false;
      if (JSON.stringify(v.readRing) !== JSON.stringify(members)) return false;
    }
    return true;
  }, ms);
}
