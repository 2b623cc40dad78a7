import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leaderlessRecipe } from '../../cluster-images/leaderless/system.js';
import { imageRecipeOf } from './docker-backend.js';
import type { TreeEntry } from './host-files.js';
import { digestOf, loadImageRecipe, recipeEntries } from './images.js';

const root = mkdtempSync(join(tmpdir(), 'faultline-recipes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function recipeFile(system: string, text: string): void {
  mkdirSync(join(root, system), { recursive: true });
  writeFileSync(join(root, system, 'docker-recipe.json'), text);
}

describe('image recipes', () => {
  it('resolve relative sources against their folder', () => {
    recipeFile('good', '{"files":[{"from":"dist","to":"/opt/good"},{"from":"/abs","to":"/x"}]}');
    expect(loadImageRecipe('good', root)).toEqual({
      files: [
        { from: join(root, 'good', 'dist'), to: '/opt/good' },
        { from: '/abs', to: '/x' },
      ],
    });
  });

  it('name the file and the field when invalid', () => {
    recipeFile('relative-to', '{"files":[{"from":"dist","to":"opt"}]}');
    expect(() => loadImageRecipe('relative-to', root)).toThrow(
      /relative-to\/docker-recipe\.json: files\.0\.to: must be an absolute path/,
    );
    recipeFile('not-json', '{files');
    expect(() => loadImageRecipe('not-json', root)).toThrow(
      /not-json\/docker-recipe\.json: not JSON/,
    );
    expect(() => loadImageRecipe('absent', root)).toThrow(/no image recipe for absent/);
  });

  it('the leaderless definition carries its image recipe: the built bundle', () => {
    const r = imageRecipeOf(leaderlessRecipe(), {});
    expect(r.files.some((f) => f.from.endsWith('cluster-images/leaderless/dist'))).toBe(true);
  });

  it('copy folders walked, and binaries at their host paths with their shared libraries', () => {
    const folder = join(root, 'app');
    mkdirSync(join(folder, 'lib'), { recursive: true });
    writeFileSync(join(folder, 'main.js'), 'x');
    writeFileSync(join(folder, 'lib', 'a.js'), 'y');
    const entries = recipeEntries({
      files: [{ from: folder, to: '/opt/app' }],
      binaries: [process.execPath],
    });
    const paths = entries.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining(['/opt/app', '/opt/app/main.js', '/opt/app/lib/a.js']),
    );
    expect(entries.find((e) => e.path === '/opt/app/lib/a.js')).toMatchObject({
      type: 'file',
      source: join(folder, 'lib', 'a.js'),
    });
    // node itself (or the symlinks leading to it), and libc among the libraries ldd lists.
    expect(paths.some((p) => p === process.execPath)).toBe(true);
    expect(paths.some((p) => /\/libc\.so/.test(p))).toBe(true);
    expect(() => recipeEntries({ files: [], binaries: ['/nonexistent/bin'] })).toThrow(
      /binary \/nonexistent\/bin does not exist/,
    );
  });

  it('a system without an image recipe is refused by name', () => {
    const recipe = { ...leaderlessRecipe() };
    delete recipe.docker;
    expect(() => imageRecipeOf(recipe, {})).toThrow(/system leaderless has no docker image recipe/);
  });
});

describe('image tags', () => {
  const file = (over: Partial<Extract<TreeEntry, { type: 'file' }>> = {}): TreeEntry => ({
    type: 'file',
    path: '/usr/bin/node',
    mode: 0o755,
    source: '/usr/bin/node',
    size: 100,
    mtimeMs: 1000,
    ...over,
  });
  const tag = (entries: TreeEntry[], inline = 'x', extra: string[] = []) =>
    digestOf({ entries, inline: [{ path: '/a', content: inline }] }, extra);

  it('stay the same for the same inputs and change with any input', () => {
    const base = tag([file()]);
    expect(tag([file()])).toBe(base);
    expect(tag([file({ size: 101 })])).not.toBe(base);
    expect(tag([file({ mtimeMs: 1001 })])).not.toBe(base);
    expect(tag([file({ mode: 0o700 })])).not.toBe(base);
    expect(tag([file({ path: '/usr/local/bin/node' })])).not.toBe(base);
    expect(tag([file()], 'y')).not.toBe(base);
    expect(tag([file()], 'x', ['sha256:other-base'])).not.toBe(base);
    expect(tag([file(), { type: 'symlink', path: '/bin', target: 'usr/bin' }])).not.toBe(base);
  });
});
