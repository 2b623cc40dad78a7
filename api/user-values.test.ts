import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { leaderless } from '../cluster-images/leaderless/system.js';
import { defineSystem } from '../core/system.js';
import { register } from '../workloads/register/index.js';
import { defineWorkload } from './index.js';
import { defaultRunDeps } from './registries.js';
import { depsForRunFolder, resolveUserValues } from './user-values.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-user-values-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const toy = defineSystem({
  name: 'toy',
  local: { launch: () => ({ command: '/bin/true', args: [], env: {} }) },
  healthy: async () => true,
  clients: { register: leaderless.clients.register! },
});
const core = fileURLToPath(new URL('../core/system.ts', import.meta.url));
const moduleText = `import { defineSystem } from ${JSON.stringify(core)};
export default defineSystem({
  name: 'from-module',
  local: { launch: () => ({ command: '/bin/true', args: [], env: {} }) },
  healthy: async () => true,
  clients: {},
});
`;

describe('specs carrying systems and workloads as values', () => {
  it('a system value joins the registry by name, and the config it came from is recorded', async () => {
    const r = await resolveUserValues(
      { system: toy, workload: 'register' },
      defaultRunDeps(),
      'conf.ts',
    );
    expect(r.raw).toEqual({
      system: 'toy',
      workload: 'register',
      systemFrom: join(process.cwd(), 'conf.ts'),
    });
    expect(r.deps.systems.get('toy')).toBe(toy);
    expect(r.deps.systems.get('leaderless')).toBe(leaderless);
    expect(defaultRunDeps().systems.has('toy')).toBe(false);
  });

  it('a workload value joins the registry, alone or as the name beside options', async () => {
    const mine = defineWorkload({ ...register, name: 'my-register' });
    const alone = await resolveUserValues({ workload: mine }, defaultRunDeps());
    expect(alone.raw).toEqual({ workload: { name: 'my-register' } });
    expect(alone.deps.workloads.get('my-register')).toBe(mine);
    const named = await resolveUserValues(
      { workload: { name: mine, options: { keys: 2 } } },
      defaultRunDeps(),
    );
    expect(named.raw).toEqual({ workload: { name: 'my-register', options: { keys: 2 } } });
  });

  it('--system PATH loads the module default export; test.json then rebuilds it for a re-check', async () => {
    const file = join(dir, 'sys.ts');
    writeFileSync(file, moduleText);
    const r = await resolveUserValues({ system: file }, defaultRunDeps());
    expect(r.raw).toEqual({ system: 'from-module', systemFrom: file });
    expect(r.deps.systems.get('from-module')?.name).toBe('from-module');

    const testJson = join(dir, 'test.json');
    writeFileSync(testJson, JSON.stringify({ spec: r.raw }));
    const again = await depsForRunFolder(testJson, defaultRunDeps());
    expect(again.warning).toBeUndefined();
    expect(again.deps.systems.get('from-module')?.name).toBe('from-module');

    writeFileSync(
      testJson,
      JSON.stringify({ spec: { system: 'gone', systemFrom: join(dir, 'nope.ts') } }),
    );
    const lost = await depsForRunFolder(testJson, defaultRunDeps());
    expect(lost.warning).toMatch(/cannot rebuild system gone from .*nope\.ts/);
    expect(lost.deps.systems.has('gone')).toBe(false);
  });

  it('a module that does not export a system is named', async () => {
    const file = join(dir, 'not-a-system.mjs');
    writeFileSync(file, 'export default { name: "x" };\n');
    await expect(resolveUserValues({ system: file }, defaultRunDeps())).rejects.toThrow(
      /not-a-system\.mjs: its default export is not a system/,
    );
  });
});
