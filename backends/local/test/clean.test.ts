import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { processAlive } from '../../../core/process.js';
import { createLocalBackend } from '../local-backend.js';
import { processesOfRun } from '../registry.js';

const CHILD = fileURLToPath(new URL('./child-harness.ts', import.meta.url));

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = pids.filter(processAlive);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('clean() after a harness died', () => {
  const leftovers: number[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const pid of leftovers) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('kills the nodes of a SIGKILLed harness, removes its data dir and entry, spares live runs', async () => {
    const registryDir = mkdtempSync(join(tmpdir(), 'faultline-registry-'));
    const logsDir = mkdtempSync(join(tmpdir(), 'faultline-child-logs-'));
    dirs.push(registryDir, logsDir);
    const runId = `clean-test-${process.pid}-${Date.now()}`;
    const child = execa(process.execPath, ['--import', 'tsx', CHILD, registryDir, runId, logsDir], {
      reject: false,
      stdout: 'pipe',
      stderr: 'inherit',
    });
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout?.on('data', (c: Buffer) => {
        text += c.toString();
        const nl = text.indexOf('\n');
        if (nl >= 0) resolve(text.slice(0, nl));
      });
      void child.then(() => reject(new Error(`child harness exited before starting: ${text}`)));
    });
    const started = JSON.parse(line) as { pids: number[]; dataDir: string };
    leftovers.push(...started.pids);
    expect(started.pids).toHaveLength(3);

    const backend = createLocalBackend({ registryDir });
    // The harness lives: its run is not a leftover.
    expect((await backend.clean()).removed).toEqual([]);
    expect(started.pids.every(processAlive)).toBe(true);

    child.kill('SIGKILL');
    await child;
    // Its nodes outlive it (own process groups)...
    expect(started.pids.every(processAlive)).toBe(true);
    expect(readdirSync(registryDir)).toEqual([`${runId}.json`]);

    // ...until clean() finds them.
    const { removed } = await backend.clean();
    expect(removed.join('\n')).toContain(runId);
    expect(await waitGone(started.pids, 5000)).toEqual([]);
    expect(processesOfRun(runId)).toEqual([]);
    expect(existsSync(started.dataDir)).toBe(false);
    expect(readdirSync(registryDir)).toEqual([]);
    // The nodes' logs were written while they ran.
    expect(readdirSync(logsDir).sort()).toEqual(['n1', 'n2', 'n3']);
    // Nothing left to do the second time.
    expect((await backend.clean()).removed).toEqual([]);
  });
});
