import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TreeEntry } from './host-files.js';
import { digestOf, loadImageRecipe } from './images.js';

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

  it('the leaderless recipe exists and ships the built bundle', () => {
    const r = loadImageRecipe('leaderless');
    expect(r.files.some((f) => f.from.endsWith('cluster-images/leaderless/dist'))).toBe(true);
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
