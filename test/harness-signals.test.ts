import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import { runCli } from '../cli/program.js';

const script = fileURLToPath(new URL('../cli/testing/run-fake.ts', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'faultline-signals-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(out, { recursive: true, force: true });
});

function start() {
  const child = spawn(process.execPath, ['--import', 'tsx', script, out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const waitFor = async (text: string) => {
    while (!stdout.includes(text)) {
      if (child.exitCode !== null) throw new Error(`exited before "${text}": ${stdout} ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, waitFor, output: () => ({ stdout, stderr }) };
}

describe('faultline run and signals', () => {
  it('Ctrl-C stops the run cleanly: heals, tears down, checks; aborted, never a pass (exit 2)', async () => {
    const run = start();
    await run.waitFor('seed: 1');
    await new Promise((r) => setTimeout(r, 800));
    run.child.kill('SIGINT');
    const code = await run.exited;
    const { stdout, stderr } = run.output();
    expect(stderr).toMatch(/SIGINT: stopping/);
    expect(stdout).toMatch(/teardown done/);
    // The history so far is linearizable, but the run did not do what it planned.
    expect(stdout).toMatch(/linearizability: valid/);
    expect(stdout).toMatch(/status: ABORTED/);
    expect(stdout).toMatch(/verdict: UNKNOWN/);
    expect(stdout).toMatch(/because the run was stopped before it finished/);
    expect(stdout).toMatch(/reproduce with --seed 1/);
    expect(code).toBe(2);
  });

  it('SIGTERM does the same', async () => {
    const run = start();
    await run.waitFor('seed: 1');
    await new Promise((r) => setTimeout(r, 500));
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(2);
    expect(run.output().stdout).toMatch(/teardown done/);
  });

  it('a harness killed with SIGKILL mid-run leaves a folder that faultline check reads as crashed', async () => {
    const run = start();
    await run.waitFor('seed: 1');
    // Let it run (the recorder flushes every 100 ms), then kill it without warning.
    await new Promise((r) => setTimeout(r, 1500));
    run.child.kill('SIGKILL');
    await run.exited;
    const root = join(out, 'fake-register');
    const dirs = readdirSync(root).map((d) => join(root, d));
    const killed = dirs.find(
      (d) => JSON.parse(readFileSync(join(d, 'test.json'), 'utf8')).status === 'running',
    );
    expect(killed).toBeDefined();
    const { events, warnings } = await readJsonlHistory(join(killed!, 'history.jsonl'));
    expect(events.filter((e) => e.type === 'ok').length).toBeGreaterThan(10);
    expect(warnings.length).toBeLessThanOrEqual(1);
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    // Ops in flight at the kill stay pending (unknown): the history is still checkable, and
    // linearizable so far; but the run was cut short, so the verdict is unknown (exit 2).
    expect(await runCli(['node', 'faultline', 'check', killed!], io)).toBe(2);
    const text = lines.join('\n');
    // (The fake system is unknown to the CLI: it re-checks with test.json's model alone.)
    expect(text).toMatch(/: linearizable \(model kv/);
    expect(text).toMatch(/the run's status is crashed: its verdict is at best unknown/);
    expect(JSON.parse(readFileSync(join(killed!, 'test.json'), 'utf8')).status).toBe('crashed');
  });

  it('a second Ctrl-C aborts at once', async () => {
    const run = start();
    await run.waitFor('seed: 1');
    await new Promise((r) => setTimeout(r, 500));
    run.child.kill('SIGINT');
    await run.waitFor('teardown started');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    const { stdout, stderr } = run.output();
    expect(stdout).not.toMatch(/teardown done/);
    expect(stderr).toMatch(/aborting now; run `faultline clean`/);
    // The exit still flushed the history and marked the run stopped, not "running".
    const root = join(out, 'fake-register');
    const hard = readdirSync(root)
      .map((d) => join(root, d))
      .filter((d) =>
        /exited before the run finished/.test(readFileSync(join(d, 'test.json'), 'utf8')),
      );
    expect(hard.length).toBe(1);
    expect(JSON.parse(readFileSync(join(hard[0]!, 'test.json'), 'utf8')).status).toBe('aborted');
    const { events } = await readJsonlHistory(join(hard[0]!, 'history.jsonl'));
    expect(events.some((e) => e.f === 'heal-all-stop')).toBe(true);
  });
});
