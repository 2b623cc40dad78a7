import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostTree, parseLdd } from './host-files.js';

const root = mkdtempSync(join(tmpdir(), 'faultline-hosttree-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('host files for an image', () => {
  it('reads library paths from ldd output, skipping the vdso', () => {
    const text = [
      '\tlinux-vdso.so.1 (0x00007ff419b06000)',
      '\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007ff419aef000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ff41953e000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007ff419b08000)',
      '\tlibmissing.so => not found',
    ].join('\n');
    expect(parseLdd(text)).toEqual([
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('keeps symlinks on the way to a file, takes their targets, and orders parents first', () => {
    // root/usr/lib/libx.so.1.2 (file), root/usr/lib/libx.so.1 -> libx.so.1.2, root/lib -> usr/lib
    mkdirSync(join(root, 'usr', 'lib'), { recursive: true });
    writeFileSync(join(root, 'usr', 'lib', 'libx.so.1.2'), 'elf');
    symlinkSync('libx.so.1.2', join(root, 'usr', 'lib', 'libx.so.1'));
    symlinkSync('usr/lib', join(root, 'lib'));
    const tree = new HostTree();
    tree.addHostPath(join(root, 'lib', 'libx.so.1'));
    const list = tree.list();
    const byPath = new Map(list.map((e) => [e.path, e]));
    expect(byPath.get(join(root, 'lib'))).toMatchObject({ type: 'symlink', target: 'usr/lib' });
    expect(byPath.get(join(root, 'usr', 'lib', 'libx.so.1'))).toMatchObject({
      type: 'symlink',
      target: 'libx.so.1.2',
    });
    expect(byPath.get(join(root, 'usr', 'lib', 'libx.so.1.2'))).toMatchObject({
      type: 'file',
      size: 3,
    });
    expect(byPath.get(join(root, 'usr'))?.type).toBe('directory');
    // Every entry's parent directory comes before it.
    const seen = new Set<string>(['/']);
    for (const e of list) {
      const parent = e.path.slice(0, e.path.lastIndexOf('/')) || '/';
      expect(seen.has(parent), `${parent} before ${e.path}`).toBe(true);
      seen.add(e.path);
    }
  });

  it('refuses relative paths', () => {
    expect(() => new HostTree().addHostPath('usr/bin/node')).toThrow(/absolute/);
  });
});
