/** The node as a process: bad settings exit 2 naming the flag; SIGTERM closes gracefully. */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, buildBundle, type Cluster, call, startCluster } from './cluster.js';

let cluster: Cluster | undefined;
beforeAll(async () => {
  await buildBundle();
});
afterAll(async () => {
  await cluster?.stop();
});

const base = [
  '--id',
  'n1',
  '--listen',
  '127.0.0.1:0',
  '--peer-listen',
  '127.0.0.1:0',
  '--peers',
  'n1=127.0.0.1:1',
  '--data-dir',
  '/nonexistent',
  '--n',
  '1',
];

describe('the node process', () => {
  it('exits 2 with a message naming a bad flag or environment variable', () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [[...base, '--fsync', 'sometimes'], {}, /--fsync/],
      [[...base, '--r', '2'], {}, /--r 2/],
      [[...base, '--what', '1'], {}, /what/],
      [base.slice(2), {}, /--id/],
      [base, { LEADERLESS_CONFLICT: 'maybe' }, /--conflict/],
    ];
    for (const [args, env, message] of cases) {
      const res = spawnSync(process.execPath, [BUNDLE, ...args], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect({ args, status: res.status }).toEqual({ args, status: 2 });
      expect(res.stderr).toMatch(message);
    }
  });

  it('closes on SIGTERM with status 0 and keeps its data for the next start', async () => {
    cluster = await startCluster({ size: 1, args: ['--n', '1'] });
    const node = cluster.nodes[0]!;
    expect((await call(node, 'PUT', '/kv/a', { value: 'kept' })).status).toBe(200);
    expect((await call(node, 'PUT', '/lin/b', { value: 'kept too' })).status).toBe(200);
    const proc = node.proc!;
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(node.output.join('')).toMatch(/SIGTERM: closing[\s\S]*closed/);
    await node.start();
    expect((await call(node, 'GET', '/kv/a')).body.values).toEqual(['kept']);
    expect((await call(node, 'GET', '/lin/b')).body.value).toBe('kept too');
  });
});
