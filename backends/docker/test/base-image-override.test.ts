import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { StandinClient } from '../../testing/standin.js';
import { connectDocker, followProgress, statusOf } from '../engine.js';
import { HostTree } from '../host-files.js';
import { digestOf } from '../images.js';
import { describeObjectsOfRun } from '../labels.js';
import { tarStream } from '../tar.js';
import { standinCluster } from './standin-image.js';

/**
 * An "ordinary" base image standing in for `node:20-bookworm-slim` (no registry here): node
 * and its libraries only. No shell, no iptables, no libfaketime.
 */
async function nodeOnlyImage(docker: Dockerode): Promise<string> {
  const tree = new HostTree();
  tree.addBinary(process.execPath);
  tree.addDirectory('/tmp', 0o1777);
  const source = { entries: tree.list(), inline: [] };
  const tag = `faultline-test-nodeonly:${digestOf(source, ['node-only'])}`;
  try {
    await docker.getImage(tag).inspect();
    return tag;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  const [repo, version] = tag.split(':') as [string, string];
  const importImage = docker.importImage.bind(docker) as unknown as (
    tar: NodeJS.ReadableStream,
    options: object,
  ) => Promise<NodeJS.ReadableStream>;
  const stream = await importImage(tarStream(source.entries) as unknown as NodeJS.ReadableStream, {
    repo,
    tag: version,
    changes: [`ENV PATH=${process.execPath.replace(/\/node$/, '')}`],
  });
  await followProgress(docker, stream);
  return tag;
}

describe('a system layered on an ordinary base image (--base-image)', () => {
  const logsDir = mkdtempSync(join(tmpdir(), 'faultline-docker-base-'));
  afterAll(() => rmSync(logsDir, { recursive: true, force: true }));

  it('runs, and still takes partitions and clock faults', async () => {
    const docker = await connectDocker();
    const baseImage = await nodeOnlyImage(docker);
    const runId = `base-override-${process.pid}-${Date.now().toString(36)}`;
    const cluster = await standinCluster(runId, logsDir, { baseImage });
    try {
      const n1 = new StandinClient(cluster.clientAddress('n1'));
      expect((await n1.health()).id).toBe('n1');
      await cluster.setClock('n1', 600_000);
      expect(Math.abs((await n1.health()).now - Date.now() - 600_000)).toBeLessThan(5_000);
      await cluster.partition({ n2: ['n1'], n1: ['n2'] });
      expect((await n1.send('n2', 512, { timeoutMs: 800 })).echoed).toBe(0);
      await cluster.heal();
      expect((await n1.send('n2', 512, { timeoutMs: 3000 })).echoed).toBe(512);
    } finally {
      await cluster.teardown();
    }
    expect(await describeObjectsOfRun(docker, runId)).toEqual([]);
  }, 90_000);
});
