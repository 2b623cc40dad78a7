import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseSpec, resolveSpec, SpecError, specFromFlags } from './spec.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('test spec', () => {
  it('fills in the documented defaults', () => {
    const s = parseSpec({});
    expect(s).toMatchObject({
      system: 'leaderless',
      nodes: 5,
      backend: 'local',
      workload: { name: 'register', options: {} },
      nemesis: { faults: [] },
      out: 'results',
      settings: {},
    });
    expect(s.seed).toBeUndefined();
    const r = resolveSpec(s, () => 1234);
    expect(r.seed).toBe(1234);
    expect(r.name).toBe('leaderless-register');
    expect(resolveSpec(parseSpec({ seed: 7 }), () => 1).seed).toBe(7);
  });

  it('names the field and the bad value', () => {
    const bad: [unknown, RegExp][] = [
      [{ nodes: 0 }, /field nodes: .*got 0/],
      [{ nodes: 2.5 }, /field nodes: expected a whole number of nodes, got 2.5/],
      [{ rate: -3 }, /field rate: expected ops per second > 0, got -3/],
      [{ timeLimit: 'soon' }, /field timeLimit: .*got "soon"/],
      [{ nemesis: { faults: ['meteor'] } }, /field nemesis.faults.0: .*got "meteor"/],
      [{ nemesis: { interval: -1 } }, /field nemesis.interval: .*got -1/],
      [{ settings: { R: '1' } }, /field settings.R: .*got/],
      [{ name: 'a/b' }, /field name: .*folder.*got "a\/b"/],
      [{ concurency: 3 }, /unknown field concurency/],
    ];
    for (const [input, message] of bad) {
      expect(() => parseSpec(input)).toThrow(SpecError);
      expect(() => parseSpec(input)).toThrow(message);
    }
  });

  it('--system drops the systemFrom of the config it overrides; without it, keeps it', () => {
    const base = { system: 'toy', systemFrom: '/p/conf.ts' };
    expect(parseSpec(specFromFlags({ system: 'leaderless' }, base)).systemFrom).toBeUndefined();
    expect(parseSpec(specFromFlags({ nodes: '3' }, base)).systemFrom).toBe('/p/conf.ts');
  });

  it('maps CLI flags onto the same schema, over a config file', () => {
    const raw = specFromFlags(
      {
        nodes: '3',
        workload: 'register',
        nemesis: 'partition,kill,pause',
        nemesisInterval: '2.5',
        nemesisTargets: 'one,majority',
        concurrency: '6',
        rate: '150',
        timeLimit: '12',
        recovery: '3',
        seed: '99',
        systemOpt: ['r=1', 'fsync=never'],
        workloadOpt: ['keys=4', 'label=x'],
        out: '/tmp/x',
      },
      {
        name: 'base',
        nodes: 7,
        rate: 10,
        settings: { w: 2 },
        nemesis: { interval: 9, faults: ['pause'] },
      },
    );
    const s = parseSpec(raw);
    expect(s).toMatchObject({
      name: 'base',
      nodes: 3,
      concurrency: 6,
      rate: 150,
      timeLimit: 12,
      recovery: 3,
      seed: 99,
      out: '/tmp/x',
      settings: { w: '2', r: '1', fsync: 'never' },
      workload: { name: 'register', options: { keys: 4, label: 'x' } },
      nemesis: {
        faults: ['partition', 'kill', 'pause'],
        interval: 2.5,
        targets: ['one', 'majority'],
      },
    });
    expect(() => parseSpec(specFromFlags({ nodes: 'five' }))).toThrow(/field nodes: .*got "five"/);
    expect(() => specFromFlags({ systemOpt: ['r'] })).toThrow(
      /--system-opt "r": expected key=value/,
    );
    expect(parseSpec(specFromFlags({ nemesis: 'none' })).nemesis.faults).toEqual([]);
  });

  it('numeric flags round-trip through the schema', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (nodes, concurrency, seed) => {
          const s = parseSpec(
            specFromFlags({
              nodes: String(nodes),
              concurrency: String(concurrency),
              seed: String(seed),
            }),
          );
          expect([s.nodes, s.concurrency, s.seed]).toEqual([nodes, concurrency, seed]);
        },
      ),
    );
  });

  it('is strict at every level: a typo inside workload, nemesis or evidence is named', () => {
    const typos: [unknown, RegExp][] = [
      [{ workload: { name: 'register', optons: { keys: 2 } } }, /unknown field optons in workload/],
      [{ nemesis: { faults: ['kill'], intervall: 3 } }, /unknown field intervall in nemesis/],
      [{ evidence: { minOkOp: 3 } }, /unknown field minOkOp in evidence/],
      [{ evidence: { minOkOps: -1 } }, /field evidence.minOkOps: .*got -1/],
      [{ workloads: 'register' }, /unknown field workloads/],
    ];
    for (const [input, message] of typos) {
      expect(() => parseSpec(input), JSON.stringify(input)).toThrow(message);
    }
  });

  it('takes the workload as a bare name, as the flag does (JSON config files too)', () => {
    expect(parseSpec({ workload: 'kv' }).workload).toEqual({ name: 'kv', options: {} });
    expect(parseSpec(JSON.parse('{"workload": "register"}')).workload.name).toBe('register');
    // A flag's options merge onto a config's bare workload name.
    const merged = parseSpec(specFromFlags({ workloadOpt: ['keys=2'] }, { workload: 'kv' }));
    expect(merged.workload).toEqual({ name: 'kv', options: { keys: 2 } });
    expect(parseSpec({}).evidence).toEqual({ minOkOps: 10, minOkOpsPerKey: 1 });
    expect(parseSpec(specFromFlags({ minOkOps: '0', minOkOpsPerKey: '3' })).evidence).toEqual({
      minOkOps: 0,
      minOkOpsPerKey: 3,
    });
  });

  it('the example config files in examples/ are valid specs', async () => {
    for (const name of ['register-chaos.config.ts', 'register-chaos.json']) {
      const file = fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
      const s = parseSpec(await loadConfigFile(file), file);
      expect(s.workload.name, name).toBe('register');
      expect(s.nemesis.faults, name).toEqual(['partition', 'kill', 'pause']);
    }
  });

  it('loads TS (defineTest) and JSON config files', async () => {
    const ts = fileURLToPath(new URL('./testing/example-test.config.ts', import.meta.url));
    const s = parseSpec(await loadConfigFile(ts), ts);
    expect(s).toMatchObject({
      name: 'from-config',
      nodes: 3,
      settings: { fsync: 'always', r: '2' },
    });
    const json = join(dir, 'bad.json');
    writeFileSync(json, JSON.stringify({ nodes: -1 }));
    await expect(loadConfigFile(json).then((x) => parseSpec(x, json))).rejects.toThrow(
      new RegExp(`${json}: field nodes: .*got -1`),
    );
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{');
    await expect(loadConfigFile(broken)).rejects.toThrow(/broken.json: not JSON/);
  });
});
