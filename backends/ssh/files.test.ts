import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SystemRecipe } from '../../core/cluster.js';
import { filesUnder, mapLaunchPaths, rootsOfLaunch } from './files.js';

const recipe = (files: string[] = []): SystemRecipe => ({
  name: 'x',
  clockFaults: false,
  launch: () => ({ command: 'x', args: [], env: {} }),
  healthy: async () => true,
  docker: { image: { files: files.map((from) => ({ from, to: '/opt/x' })) } },
});

describe('the files a launch needs on the hosts', () => {
  it('takes existing local files and folders, never devices, remote paths or /', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-files-'));
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'a.js'), 'a');
    writeFileSync(join(dir, 'dist', 'b.js'), 'b');
    writeFileSync(join(dir, 'tool'), 't');
    const launch = {
      command: join(dir, 'tool'),
      args: [
        '--log',
        '/dev/null',
        '--data',
        '/work/runs/r/n1/data',
        join(dir, 'dist', 'a.js'),
        'rel',
        '/',
        join(dir, 'gone'),
      ],
      env: {},
    };
    const roots = rootsOfLaunch(launch, recipe([join(dir, 'dist')]), ['/work']);
    expect(roots).toEqual([join(dir, 'dist'), join(dir, 'dist', 'a.js'), join(dir, 'tool')].sort());
    expect(filesUnder(roots).sort()).toEqual(
      [join(dir, 'dist', 'a.js'), join(dir, 'dist', 'b.js'), join(dir, 'tool')].sort(),
    );
    // Paths under the roots move under the host's files folder; the rest stay.
    expect(mapLaunchPaths(launch, roots, '/work')).toEqual({
      command: `/work/files${dir}/tool`,
      args: [
        '--log',
        '/dev/null',
        '--data',
        '/work/runs/r/n1/data',
        `/work/files${dir}/dist/a.js`,
        'rel',
        '/',
        join(dir, 'gone'),
      ],
      env: {},
    });
  });
});
