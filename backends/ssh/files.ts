import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { NodeLaunch, SystemRecipe } from '../../core/cluster.js';
import type { SshConnection } from './connection.js';
import { shCommand, shQuote } from './quote.js';

/**
 * The system's files on the hosts: every local file a launch names (its command, absolute
 * paths among its arguments, the folders of the system's image recipe) is copied to the same
 * path under `<workDir>/files` on each host. A copy is checked by SHA-256: after upload, and at
 * later runs against a stamp beside it (its hash, size and mtime as uploaded), so a prepared
 * host is not copied to again.
 */

export interface LocalFile {
  path: string;
  mode: number;
  size: number;
  sha256: string;
}

const hashCache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

async function sha256Of(path: string): Promise<string> {
  const st = statSync(path);
  const hit = hashCache.get(path);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  const sha256 = h.digest('hex');
  hashCache.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  return sha256;
}

function walk(path: string, out: string[]): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const e of readdirSync(path).sort()) walk(join(path, e), out);
  } else if (st.isFile()) {
    out.push(path);
  }
}

/**
 * The local paths (files or folders) a launch needs on the host: its command and arguments
 * that exist here as absolute paths, and the files of the system's image recipe. `skip`:
 * prefixes that are paths on the hosts (data dirs), never copied.
 */
export function rootsOfLaunch(
  launch: NodeLaunch,
  recipe: SystemRecipe,
  skip: readonly string[],
): string[] {
  const roots = new Set<string>();
  const take = (p: string) => {
    if (!isAbsolute(p) || p === '/' || skip.some((s) => p === s || p.startsWith(`${s}/`))) return;
    if (!existsSync(p)) return;
    // Files and folders only: a device such as /dev/null is the host's own.
    const st = statSync(p);
    if (st.isFile() || st.isDirectory()) roots.add(p);
  };
  take(launch.command);
  for (const a of launch.args) take(a);
  for (const f of recipe.docker?.image.files ?? []) take(f.from);
  for (const b of recipe.docker?.image.binaries ?? []) take(b);
  return [...roots].sort();
}

/** A bound on the files a launch may have copied (a mistaken root such as /usr stops here). */
export const MAX_FILES = 20_000;

/** Every file at or below the given paths. */
export function filesUnder(roots: readonly string[]): string[] {
  const files: string[] = [];
  for (const r of roots) {
    walk(r, files);
    if (files.length > MAX_FILES) {
      throw new Error(`ssh backend: over ${MAX_FILES} files to copy to the hosts under ${r}`);
    }
  }
  return [...new Set(files)];
}

/** Where a local absolute path lives on a host. */
export const remotePath = (workDir: string, local: string) => `${workDir}/files${local}`;

/** The launch with every path among `roots` (and below) moved to its copy on the host. */
export function mapLaunchPaths(
  launch: NodeLaunch,
  roots: readonly string[],
  workDir: string,
): NodeLaunch {
  const map = (s: string) =>
    roots.some((r) => s === r || s.startsWith(`${r}/`)) ? remotePath(workDir, s) : s;
  return { command: map(launch.command), args: launch.args.map(map), env: launch.env };
}

export async function describeFiles(paths: readonly string[]): Promise<LocalFile[]> {
  return Promise.all(
    paths.map(async (path) => {
      const st = statSync(path);
      return { path, mode: st.mode & 0o777, size: st.size, sha256: await sha256Of(path) };
    }),
  );
}

/**
 * Brings the host's copies of `files` up to date: those whose stamp (or content) differs are
 * uploaded to a temporary name, hashed on the host, and renamed into place. Returns the paths
 * it uploaded.
 */
export async function syncFiles(
  conn: SshConnection,
  workDir: string,
  files: readonly LocalFile[],
): Promise<string[]> {
  if (files.length === 0) return [];
  const targets = files.map((f) => remotePath(workDir, f.path));
  // A line per file: the stamp, then what the copy is now ("size mtime"), '|'-separated.
  const check = `for f in ${targets.map(shQuote).join(' ')}; do s=$(cat "$f.fl-sha256" 2>/dev/null); c=$(stat -c '%s %Y' "$f" 2>/dev/null); echo "$s|$c"; done`;
  const lines = (await conn.ok(check, 'checking the system files')).split('\n');
  const stale = files.filter((f, i) => {
    const [stamp = '', now = ''] = (lines[i] ?? '').split('|');
    const [sha, size, mtime] = stamp.split(' ');
    return !(sha === f.sha256 && `${size} ${mtime}` === now && size === String(f.size));
  });
  await Promise.all(
    stale.map(async (f) => {
      const target = remotePath(workDir, f.path);
      const tmp = `${target}.fl-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
      await conn.ok(
        shCommand(['mkdir', '-p', target.slice(0, target.lastIndexOf('/'))]),
        'making a folder for the system files',
      );
      await conn.upload(f.path, tmp, f.mode, Math.max(60_000, f.size / 10_000));
      const t = shQuote(tmp);
      const got = (await conn.ok(`sha256sum ${t} | cut -d' ' -f1`, `hashing ${target}`)).trim();
      if (got !== f.sha256) {
        await conn.run(`rm -f ${t}`);
        throw new Error(`upload of ${f.path} to ${conn.name}: content hash ${got} ≠ ${f.sha256}`);
      }
      await conn.ok(
        `chmod ${(f.mode & 0o777).toString(8)} ${t} && mv -f ${t} ${shQuote(target)} && echo "${f.sha256} $(stat -c '%s %Y' ${shQuote(target)})" > ${shQuote(`${target}.fl-sha256`)}`,
        `placing ${target}`,
      );
    }),
  );
  return stale.map((f) => f.path);
}
