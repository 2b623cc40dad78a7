import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonlHistory } from '../checker/history/jsonl.js';

const child = fileURLToPath(new URL('../harness/testing/record-forever.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'faultline-sigkill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('recorder under SIGKILL', () => {
  it('leaves a history the reader accepts, at most the last line truncated', async () => {
    const file = join(dir, 'history.jsonl');
    const proc = spawn(process.execPath, ['--import', 'tsx', child, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let flushed = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        proc.stdout.on('data', (d: Buffer) => {
          const m = /flushed (\d+)/.exec(d.toString());
          if (m) {
            flushed = Number(m[1]);
            // Let it record (and flush on its timer) a little longer, then kill it mid-run.
            setTimeout(resolve, 150);
          }
        });
        proc.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
    } finally {
      proc.kill('SIGKILL');
    }
    await new Promise((r) => proc.once('exit', r));
    expect(proc.signalCode).toBe('SIGKILL');

    const { events, warnings } = await readJsonlHistory(file);
    // Everything flushed before the kill is there, and the timer kept flushing after.
    expect(flushed).toBeGreaterThan(4000);
    expect(events.length).toBeGreaterThan(flushed);
    // Dense indices from 0: nothing before the cut was lost or reordered.
    expect(events.map((e) => e.index)).toEqual(events.map((_, i) => i));
    expect(warnings.every((w) => /last line is incomplete/.test(w.message))).toBe(true);
    expect(warnings.length).toBeLessThanOrEqual(1);
  });
});
