/**
 * `faultline serve` as a user starts it: the built CLI prints where it listens (127.0.0.1 unless
 * told), answers, and stops cleanly on SIGTERM; bad input is exit 3 with a message.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRun } from '../harness/testing/serve-fixture.js';
import { ensureBuilt, faultline, ROOT } from './cli.js';

describe('faultline serve', () => {
  let root: string;
  beforeAll(async () => {
    ensureBuilt();
    root = mkdtempSync(join(tmpdir(), 'faultline-cli-serve-'));
    await writeFixtureRun(root, {
      name: 'reg',
      folder: 'a',
      startedAt: '2026-03-01T00:00:00.000Z',
      ops: 50,
      faults: 1,
    });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('serves the folder on 127.0.0.1 and stops on SIGTERM with exit 0', async () => {
    const child = spawn('node', [join(ROOT, 'bin/faultline.js'), 'serve', root, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
    });
    const index = await fetch(url);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('href="/runs/reg/a/"');
    const post = await fetch(url, { method: 'POST' });
    expect(post.status).toBe(405);
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses a missing folder and a bad port (exit 3)', async () => {
    const missing = await faultline(['serve', join(root, 'nope')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no such folder');
    const port = await faultline(['serve', root, '--port', 'eighty']);
    expect(port.code).toBe(3);
    expect(port.stderr).toContain('--port: not a port number');
  });
});
