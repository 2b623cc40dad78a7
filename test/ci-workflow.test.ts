/**
 * The GitHub Actions workflow in docs/ci.md, run here: its `run:` steps in order, in a fresh
 * folder, as a runner would (bash -e), with `npx faultline` meaning this checkout's built CLI.
 * `npm ci` is left out (this checkout is installed and built already) and so are the `uses:`
 * steps (checkout, setup-node, upload-artifact), which are GitHub's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from './cli.js';

/** The `run:` steps of the first yaml block of a markdown file, each as the shell text it runs. */
function workflowSteps(markdown: string): string[] {
  const block = /```yaml\n([\s\S]*?)```/.exec(markdown)?.[1];
  if (block === undefined) throw new Error('no yaml block');
  const lines = block.split('\n');
  const steps: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:- )?run: ?(.*)$/.exec(lines[i]!);
    if (m === null) continue;
    const indent = m[1]!.length + (lines[i]!.trimStart().startsWith('- ') ? 2 : 0);
    if (m[2] !== '|') {
      steps.push(m[2]!);
      continue;
    }
    const body: string[] = [];
    while (
      i + 1 < lines.length &&
      (lines[i + 1]!.trim() === '' || /^\s*/.exec(lines[i + 1]!)![0].length > indent)
    ) {
      body.push(lines[++i]!);
    }
    const pad = Math.min(
      ...body.filter((l) => l.trim() !== '').map((l) => /^\s*/.exec(l)![0].length),
    );
    steps.push(
      body
        .map((l) => l.slice(pad))
        .join('\n')
        .trim(),
    );
  }
  return steps;
}

describe('the GitHub Actions workflow in docs/ci.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'ci.md'), 'utf8');
  let cwd: string;
  beforeAll(() => {
    ensureBuilt();
    cwd = mkdtempSync(join(tmpdir(), 'faultline-ci-'));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('is a workflow with a job of steps', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    expect(yaml).toMatch(/^on: /m);
    expect(yaml).toMatch(/^jobs:\n {2}\w+:\n {4}runs-on: /m);
    expect(workflowSteps(doc)).toHaveLength(3);
  });

  it('its steps pass on a valid run and leave the JUnit report and summary.json', () => {
    const steps = workflowSteps(doc).filter((s) => s !== 'npm ci');
    expect(steps).toHaveLength(2);
    const cli = `node ${JSON.stringify(join(ROOT, 'bin', 'faultline.js'))}`;
    const outputs: string[] = [];
    for (const step of steps) {
      const r = spawnSync('bash', ['-e', '-c', step.replaceAll('npx faultline', cli)], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, CI: 'true' },
      });
      outputs.push(r.stdout);
      expect(r.status, `step failed:\n${step}\n${r.stdout}\n${r.stderr}`).toBe(0);
    }
    expect(outputs[0]).toContain('verdict: valid');
    expect(outputs[1]).toMatch(/^ci-register: valid, \d+ ops, p99 [\d.]+ ms$/m);
    expect(outputs[1]).toMatch(/^reproduce: faultline run --name ci-register .* --seed \d+$/m);
    const junit = readFileSync(join(cwd, 'results', 'junit.xml'), 'utf8');
    expect(junit).toContain('<testsuite name="faultline.ci-register"');
    expect(junit).toContain('name="linearizability"');
    expect(junit).toContain('failures="0" errors="0"');
    expect(existsSync(join(cwd, 'results', 'latest', 'summary.json'))).toBe(true);
  });
});
