import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, defaultRunDeps } from '../api/registries.js';
import { demoSpec } from '../cli/demo.js';
import type { CliIO } from '../cli/io.js';
import { runCli } from '../cli/program.js';
import { executeRun } from '../cli/run.js';
import type { RunDeps } from '../harness/runner.js';
import { fakeBackend, fakeNemesis, fakeSystem, fakeWorld } from '../harness/testing/fakes.js';
import { WORKLOADS } from '../workloads/index.js';

const out = mkdtempSync(join(tmpdir(), 'faultline-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function bufferIO() {
  const lines: string[] = [];
  const errs: string[] = [];
  const io: CliIO = { out: (l) => lines.push(l), err: (l) => errs.push(l) };
  return { io, lines, errs };
}

function fakeDeps(lying = false): RunDeps {
  const world = fakeWorld();
  if (lying) world.lyingNodes.add('n1');
  return {
    backends: new Map([['fake', () => fakeBackend(world)]]),
    systems: new Map([['fake', fakeSystem(world)]]),
    workloads: WORKLOADS,
    nemesis: fakeNemesis(world),
  };
}

const base = {
  system: 'fake',
  backend: 'fake',
  nodes: 3,
  concurrency: 3,
  rate: 300,
  timeLimit: 0.4,
  recovery: 0,
  opTimeout: 0.2,
  out,
};

describe('faultline run (executeRun)', () => {
  it('prints the seed first, then verdicts, the folder and how to reproduce; exit 0 when valid', async () => {
    const { io, lines } = bufferIO();
    const code = await executeRun({ ...base, seed: 77 }, io, fakeDeps());
    expect(code).toBe(0);
    expect(lines[0]).toBe('seed: 77');
    expect(lines).toContain('linearizability: valid');
    expect(lines.some((l) => l.startsWith('results: '))).toBe(true);
    expect(lines.at(-1)).toBe('reproduce with --seed 77');
  });

  it('exits 1 on an anomaly and names the key', async () => {
    const { io, lines } = bufferIO();
    const code = await executeRun(
      { ...base, seed: 5, nemesis: { faults: [] } },
      io,
      fakeDeps(true),
    );
    expect(code).toBe(1);
    expect(lines).toContain('linearizability: INVALID (anomaly found)');
    expect(lines.some((l) => /keys: r\d \(not linearizable\)/.test(l))).toBe(true);
  });

  it('picks and prints a random seed when none is given', async () => {
    const { io, lines } = bufferIO();
    await executeRun({ ...base }, io, fakeDeps());
    const seed = /^seed: (\d+)$/.exec(lines[0]!)?.[1];
    expect(seed).toBeDefined();
    expect(lines.at(-1)).toBe(`reproduce with --seed ${seed}`);
  });

  it('exits 3 naming the field and value of a bad spec', async () => {
    const { io, errs } = bufferIO();
    expect(await executeRun({ ...base, concurrency: 0 }, io, fakeDeps())).toBe(3);
    expect(errs.join('\n')).toMatch(/field concurrency: .*got 0/);
  });

  it('exits 3 naming the fault and the backend it cannot do, before starting', async () => {
    const { io, errs, lines } = bufferIO();
    const code = await executeRun(
      { nodes: 3, backend: 'local', nemesis: { faults: ['clock'] }, seed: 1, out },
      io,
      defaultRunDeps(),
    );
    expect(code).toBe(3);
    expect(errs.join('\n')).toMatch(/local backend cannot do the clock fault/);
    expect(lines).toEqual(['seed: 1']);
  });

  it('exits 3 for an unknown workload or a bad workload option', async () => {
    const a = bufferIO();
    expect(await executeRun({ ...base, workload: { name: 'nope' } }, a.io, fakeDeps())).toBe(3);
    expect(a.errs.join('\n')).toMatch(/unknown workload "nope" \(known: register/);
    const b = bufferIO();
    expect(
      await executeRun(
        { ...base, workload: { name: 'register', options: { keys: 0 } } },
        b.io,
        fakeDeps(),
      ),
    ).toBe(3);
    expect(b.errs.join('\n')).toMatch(/field workload.options.keys: .*got 0/);
  });

  it('exits 2, saying why, when clients cannot connect (0 ops)', async () => {
    const world = fakeWorld();
    world.failOn.add('open');
    const deps = { ...fakeDeps(), systems: new Map([['fake', fakeSystem(world)]]) };
    const { io, lines } = bufferIO();
    expect(await executeRun({ ...base, seed: 3 }, io, deps)).toBe(2);
    expect(lines).toContain('status: CRASHED (stopped on an error)');
    expect(lines).toContain('verdict: UNKNOWN (no conclusion: see why below)');
    expect(lines.some((l) => /because no client operation was recorded/.test(l))).toBe(true);
  });

  it('exits 4 on a bug in faultline, with the stack in the run folder, not on the terminal', async () => {
    const deps = fakeDeps();
    deps.nemesis = {
      ...deps.nemesis,
      audit() {
        throw new Error('boom in the audit');
      },
    };
    const { io, errs, lines } = bufferIO();
    expect(await executeRun({ ...base, seed: 4, nemesis: { faults: [] } }, io, deps)).toBe(4);
    const text = errs.join('\n');
    expect(text).toMatch(/internal error \(a bug in faultline\): boom in the audit/);
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    const log = /stack trace is in (\S+);/.exec(text)?.[1];
    expect(log).toBeDefined();
    expect(readFileSync(log!, 'utf8')).toMatch(/boom in the audit\n\s+at /);
    const test = JSON.parse(readFileSync(join(dirname(log!), 'test.json'), 'utf8'));
    expect(test.status).toBe('crashed');
    expect(lines).toEqual(['seed: 4']);
  });

  it('run --help lists every known system, backend, workload and fault kind, with defaults', async () => {
    const { io, lines } = bufferIO();
    expect(await runCli(['node', 'faultline', 'run', '--help'], io)).toBe(0);
    const help = lines.join('\n');
    expect(help).toMatch(/Systems \(--system NAME[\s\S]*leaderless\n\s+client APIs: register, kv/);
    expect(help).toMatch(/settings \(--system-opt k=v\): n=3, .*conflict=lww/);
    for (const [name, make] of BACKENDS) {
      expect(help).toContain(`${name}: can do ${[...make().capabilities].join(', ')}`);
    }
    for (const w of WORKLOADS.values()) expect(help).toContain(`${w.name}: ${w.description}`);
    expect(help).toMatch(/register: .*\n\s+options: keys=3, mix=/);
    for (const kind of ['partition', 'kill', 'pause', 'clock', 'link']) {
      expect(help).toMatch(new RegExp(`\\n  ${kind}: events `));
    }
    expect(help).toMatch(
      /clock: events clock-offset \/ clock-reset\n\s+settings: targets=.*clockOffsetMs=60000/,
    );
    expect(help).toMatch(/exit codes: 0 valid; 1 anomaly found; 2 unknown/);
  });

  it('demo takes the time limit and the nemesis interval its short-plan message may name', async () => {
    const spec = demoSpec({ timeLimit: 16, nemesisInterval: 3, seed: 5 });
    expect(spec).toMatchObject({ timeLimit: 16, seed: 5, nemesis: { interval: 3 } });
    expect(demoSpec().nemesis).toMatchObject({ interval: 6 });
    const { io, lines } = bufferIO();
    expect(await runCli(['node', 'faultline', 'demo', '--help'], io)).toBe(0);
    expect(lines.join('\n')).toMatch(/--nemesis-interval <seconds>/);
  });
});
