import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./exit-after-teardown.ts', import.meta.url));

describe('local backend teardown', () => {
  const registryDir = mkdtempSync(join(tmpdir(), 'faultline-registry-'));
  afterAll(() => rmSync(registryDir, { recursive: true, force: true }));

  it('leaves no handle behind: a harness process exits by itself after teardown', async () => {
    // Generous bound: the cluster takes a second or two to start; a leaked socket or timer
    // keeps the child alive forever, which this bound turns into a failure.
    const child = await execa(process.execPath, ['--import', 'tsx', CHILD, registryDir], {
      reject: false,
      timeout: 45_000,
      killSignal: 'SIGKILL',
    });
    expect(child.stdout).toContain('torn down');
    expect(child.timedOut).toBe(false);
    expect(child.exitCode).toBe(0);
  }, 60_000);
});
