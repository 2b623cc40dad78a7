import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDocker, idempotent } from '../engine.js';
import { ensureBaseImage, ensureSystemImage } from '../images.js';

describe('images assembled without a registry', () => {
  let docker: Dockerode;
  const dir = mkdtempSync(join(tmpdir(), 'faultline-image-recipe-'));
  const tags: string[] = [];
  beforeAll(async () => {
    docker = await connectDocker();
  });
  afterAll(async () => {
    try {
      for (const t of tags) await idempotent(() => docker.getImage(t).remove({ force: true }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has node, iptables, tc and libfaketime from the host in the base image', async () => {
    const base = await ensureBaseImage(docker);
    expect((await ensureBaseImage(docker)).built).toBe(false);
    const container = await docker.createContainer({
      Image: base.tag,
      Cmd: [
        'sh',
        '-c',
        'node -e "console.log(process.version)" && iptables --version && tc -V && ls /usr/lib/*/faketime/libfaketime.so.1',
      ],
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
      expect(StatusCode, logs).toBe(0);
      expect(logs).toContain(process.version);
      expect(logs).toMatch(/iptables v[\d.]+ \(nf_tables\)/);
      expect(logs).toMatch(/libfaketime\.so\.1/);
    } finally {
      await container.remove({ force: true });
    }
  });

  it('rebuilds a system image only when one of its inputs changed', async () => {
    const base = await ensureBaseImage(docker);
    const recipe = { files: [{ from: dir, to: '/opt/sys' }] };
    const system = `imagetest-${process.pid}`; // its own repository: runs in parallel do not meet
    writeFileSync(join(dir, 'app.js'), `// ${process.pid} ${Date.now()}\n`);
    const first = await ensureSystemImage(docker, system, recipe, base.tag);
    tags.push(first.tag);
    expect(first.built).toBe(true);
    const again = await ensureSystemImage(docker, system, recipe, base.tag);
    expect(again).toEqual({ tag: first.tag, built: false });
    writeFileSync(join(dir, 'app.js'), `// changed ${process.pid} ${Date.now()}\n`);
    const changed = await ensureSystemImage(docker, system, recipe, base.tag, { pruneAfterMs: 0 });
    tags.push(changed.tag);
    expect(changed.built).toBe(true);
    expect(changed.tag).not.toBe(first.tag);
    // The image of the old inputs is gone (no container used it).
    const left = await docker.listImages({
      filters: JSON.stringify({ reference: [`faultline-${system}:*`] }),
    });
    expect(left.flatMap((i) => i.RepoTags ?? [])).toEqual([changed.tag]);
  });
});
