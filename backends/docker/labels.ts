import { hostname } from 'node:os';
import type Dockerode from 'dockerode';
import { processAlive } from '../../core/process.js';
import { idempotent } from './engine.js';

/** Labels on every container and network a run creates (what `clean` finds them by). */
export const LABEL = {
  run: 'faultline.run',
  node: 'faultline.node',
  /** `node` (the system's process) or `net` (the container owning the node's network). */
  role: 'faultline.role',
  harnessPid: 'faultline.harness-pid',
  harnessHost: 'faultline.harness-host',
} as const;

export function runLabels(runId: string): Record<string, string> {
  return {
    [LABEL.run]: runId,
    [LABEL.harnessPid]: String(process.pid),
    [LABEL.harnessHost]: hostname(),
  };
}

export function checkRunId(runId: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(runId)) {
    throw new Error(
      `run id ${JSON.stringify(runId)}: use 1-128 letters, digits, '.', '_' or '-' (starting with a letter or digit)`,
    );
  }
}

const runFilter = (runId?: string) =>
  JSON.stringify({ label: [runId === undefined ? LABEL.run : `${LABEL.run}=${runId}`] });

/** What of run `runId` (every run, without it) exists in the engine, one line per object. */
export async function objectsOfRun(
  docker: Dockerode,
  runId?: string,
): Promise<{ containers: Dockerode.ContainerInfo[]; networks: Dockerode.NetworkInspectInfo[] }> {
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters: runFilter(runId) }),
    docker.listNetworks({ filters: runFilter(runId) }),
  ]);
  return { containers, networks };
}

export async function describeObjectsOfRun(docker: Dockerode, runId: string): Promise<string[]> {
  const { containers, networks } = await objectsOfRun(docker, runId);
  return [
    ...containers.map((c) => `container ${c.Names[0] ?? c.Id} (${c.State})`),
    ...networks.map((n) => `network ${n.Name}`),
  ];
}

/**
 * Removes every container and network of run `runId`: node containers first, then the
 * network containers (with their anonymous volume), then the network. Objects already gone
 * are fine. Returns what it removed.
 */
export async function removeRun(docker: Dockerode, runId: string): Promise<string[]> {
  const removed: string[] = [];
  const { containers } = await objectsOfRun(docker, runId);
  const byRole = (role: string) => containers.filter((c) => c.Labels[LABEL.role] === role);
  const rest = containers.filter((c) => !['node', 'net'].includes(c.Labels[LABEL.role] ?? ''));
  for (const group of [byRole('node'), [...byRole('net'), ...rest]]) {
    await Promise.all(
      group.map(async (c) => {
        await idempotent(() => docker.getContainer(c.Id).remove({ force: true, v: true }));
        removed.push(`container ${(c.Names[0] ?? c.Id).replace(/^\//, '')}`);
      }),
    );
  }
  // A network is removable once its containers are gone (listed again: a start racing us).
  const { networks } = await objectsOfRun(docker, runId);
  for (const n of networks) {
    await idempotent(() => docker.getNetwork(n.Id).remove());
    removed.push(`network ${n.Name}`);
  }
  return removed;
}

/**
 * Removes the objects of runs whose harness is gone: its pid (on this host) no longer lives.
 * Runs of a live harness, this one included, and of other hosts sharing the engine are kept.
 */
export async function cleanDeadRuns(docker: Dockerode): Promise<string[]> {
  const { containers, networks } = await objectsOfRun(docker);
  const owners = new Map<string, { pid: number; host: string | undefined }>();
  for (const o of [...containers.map((c) => c.Labels), ...networks.map((n) => n.Labels ?? {})]) {
    const run = o[LABEL.run];
    if (run === undefined) continue;
    owners.set(run, { pid: Number(o[LABEL.harnessPid]), host: o[LABEL.harnessHost] });
  }
  const removed: string[] = [];
  for (const [run, owner] of owners) {
    const local = owner.host === undefined || owner.host === hostname();
    if (!local) continue;
    if (Number.isInteger(owner.pid) && owner.pid > 0) {
      if (owner.pid === process.pid || processAlive(owner.pid)) continue;
    }
    for (const r of await removeRun(docker, run)) removed.push(`run ${run}: ${r}`);
  }
  return removed;
}
