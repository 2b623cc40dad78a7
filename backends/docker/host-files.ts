import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** One entry of an image's file tree, taken from the host. */
export type TreeEntry =
  | { type: 'directory'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; source: string; size: number; mtimeMs: number }
  | { type: 'symlink'; path: string; target: string };

/**
 * The shared libraries `ldd` lists for `file` (absolute paths; empty for a static binary or
 * a file ldd cannot read). Libraries loaded with dlopen (xtables modules) are added by the
 * caller as files in their own right, whose own dependencies are then listed here.
 */
export function sharedLibraries(file: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  return parseLdd(out);
}

/** The absolute library paths in `ldd` output (`name => /path (addr)` and `/path (addr)`). */
export function parseLdd(text: string): string[] {
  const libs: string[] = [];
  for (const line of text.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m?.[1] !== undefined) libs.push(m[1]);
  }
  return libs;
}

/**
 * A file tree that reproduces host paths inside an image: every path is followed component
 * by component, so a symlink on the way (`/bin -> usr/bin`, `libc.so.6 -> libc-2.36.so`) is
 * recorded as a symlink and its target is taken too. Directories come before their contents.
 */
export class HostTree {
  private readonly entries = new Map<string, TreeEntry>();

  /** Add `path` as the host has it (following symlinks, recording them). */
  addHostPath(path: string, seen = new Set<string>()): void {
    if (!isAbsolute(path)) throw new Error(`host path ${path} is not absolute`);
    if (seen.has(path)) return;
    seen.add(path);
    const parts = path.split('/').filter(Boolean);
    let real = '/';
    for (let i = 0; i < parts.length; i++) {
      const here = join(real, parts[i]!);
      const st = lstatSync(here);
      if (st.isSymbolicLink()) {
        const target = readlinkSync(here);
        this.put({ type: 'symlink', path: here, target });
        const rest = parts.slice(i + 1).join('/');
        const next = resolve(dirname(here), target);
        this.addHostPath(rest === '' ? next : join(next, rest), seen);
        return;
      }
      if (i < parts.length - 1) {
        this.addDirectory(here, st.mode & 0o7777);
      } else if (st.isDirectory()) {
        this.addDirectory(here, st.mode & 0o7777);
      } else {
        this.put({
          type: 'file',
          path: here,
          mode: st.mode & 0o7777,
          source: here,
          size: st.size,
          mtimeMs: Math.trunc(st.mtimeMs),
        });
      }
      real = here;
    }
  }

  /** Add a binary and (recursively through ldd) its shared libraries. */
  addBinary(path: string): void {
    this.addHostPath(path);
    for (const lib of sharedLibraries(path)) if (existsSync(lib)) this.addHostPath(lib);
  }

  /** Add every regular file of a host directory as a binary (modules loaded with dlopen). */
  addModuleDirectory(dir: string): void {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isFile() || st.isSymbolicLink()) this.addBinary(p);
    }
  }

  addDirectory(path: string, mode = 0o755): void {
    const parent = dirname(path);
    if (parent !== path && parent !== '/') this.addDirectory(parent);
    if (!this.entries.has(path)) this.put({ type: 'directory', path, mode });
  }

  addSymlink(path: string, target: string): void {
    this.addDirectory(dirname(path));
    this.put({ type: 'symlink', path, target });
  }

  private put(entry: TreeEntry): void {
    const existing = this.entries.get(entry.path);
    if (existing !== undefined && existing.type !== 'directory') return;
    if (existing?.type === 'directory' && entry.type === 'directory') return;
    if (entry.type !== 'directory') this.addDirectory(dirname(entry.path));
    this.entries.set(entry.path, entry);
  }

  /** Entries sorted so that every directory precedes what it holds. */
  list(): TreeEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  }
}
