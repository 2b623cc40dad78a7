import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { z } from 'zod';
import { followProgress, statusOf } from './engine.js';
import { HostTree, sharedLibraries, type TreeEntry } from './host-files.js';
import { type InlineFile, tarStream } from './tar.js';

/** Bumped when the way images are assembled changes, so old tags are not reused. */
const FORMAT = 'faultline-docker-images/1';

/** Where the node image finds libfaketime, whatever its base (LD_PRELOAD points here). */
export const FAKETIME_LIB = '/opt/faultline/lib/libfaketime.so.1';
/** Folder shared by a node and its network container: the clock file lives here. */
export const SHARED_DIR = '/faultline';
export const CLOCK_FILE = `${SHARED_DIR}/clock`;
/** The delay proxy in the base image (see delay-proxy.mjs). */
export const DELAY_PROXY_PATH = '/opt/faultline/delay-proxy.mjs';
/** The proxy script, from source or from dist/ (where the build does not copy it). */
const DELAY_PROXY_SOURCE = ((): string => {
  for (const rel of ['./delay-proxy.mjs', '../../../backends/docker/delay-proxy.mjs']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return fileURLToPath(new URL('./delay-proxy.mjs', import.meta.url));
})();

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const TOOL_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const COREUTILS = ['sh', 'sleep', 'cat', 'mkdir', 'ls', 'rm', 'mv', 'env', 'date'];

function findTool(name: string): string {
  for (const d of TOOL_DIRS) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  throw new Error(
    `the docker backend assembles its base image from host files, and \`${name}\` is missing on this host: ` +
      'install iptables, iproute2 and libfaketime (`apt-get install -y iptables iproute2 libfaketime`), ' +
      'or run scripts/ensure-docker.sh',
  );
}

/** The host's libfaketime (Debian puts it under the multiarch lib folder). */
export function findLibfaketime(): string {
  const candidates = [
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/faketime/libfaketime.so.1`,
    '/usr/lib/faketime/libfaketime.so.1',
    '/usr/local/lib/faketime/libfaketime.so.1',
    '/usr/lib64/faketime/libfaketime.so.1',
  ];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(
      'libfaketime is missing on this host (needed for clock faults in containers): ' +
        '`apt-get install -y libfaketime`, or run scripts/ensure-docker.sh',
    );
  }
  return found;
}

const XTABLES_DIRS = [
  '/usr/lib/x86_64-linux-gnu/xtables',
  '/usr/lib/aarch64-linux-gnu/xtables',
  '/usr/lib/xtables',
  '/usr/lib64/xtables',
];

/** The folder of iptables' extension modules (loaded with dlopen, so ldd does not list them). */
function xtablesModules(multi: string): string {
  const lib = sharedLibraries(multi).find((l) => /\/libxtables\.so/.test(l));
  const candidates = [
    ...(lib === undefined ? [] : [join(dirname(lib), 'xtables')]),
    ...XTABLES_DIRS,
  ];
  const found = candidates.find((d) => existsSync(d));
  if (found === undefined) throw new Error('iptables extension modules (xtables folder) not found');
  return found;
}

export interface ImageSource {
  entries: TreeEntry[];
  inline: InlineFile[];
}

/**
 * The base image's host files: node, iptables (xtables-nft-multi plus every module), ip, tc,
 * libfaketime, a shell and a few coreutils, each with the libraries ldd lists; /etc/passwd
 * and friends. Host paths are kept as they are (symlinks included).
 */
function hostFilesOfBase(): TreeEntry[] {
  const tree = new HostTree();
  tree.addBinary(process.execPath);
  const multi = findTool('xtables-nft-multi');
  tree.addBinary(multi);
  tree.addModuleDirectory(xtablesModules(multi));
  for (const t of ['ip', 'tc', 'ss', ...COREUTILS]) tree.addBinary(findTool(t));
  tree.addBinary(findLibfaketime());
  for (const f of ['/etc/passwd', '/etc/group', '/etc/protocols', '/etc/ethertypes']) {
    if (existsSync(f)) tree.addHostPath(f);
  }
  return tree.list();
}

const CachedEntrySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('directory'), path: z.string(), mode: z.number() }),
  z.object({
    type: z.literal('file'),
    path: z.string(),
    mode: z.number(),
    source: z.string(),
    size: z.number(),
    mtimeMs: z.number(),
  }),
  z.object({ type: z.literal('symlink'), path: z.string(), target: z.string() }),
]);
const SourceCacheSchema = z.object({
  key: z.string(),
  entries: z.array(CachedEntrySchema),
});

/** True when every host file and symlink of `entries` is still as recorded. */
function stillCurrent(entries: readonly TreeEntry[]): boolean {
  try {
    for (const e of entries) {
      if (e.type === 'file') {
        const st = lstatSync(e.source);
        if (!st.isFile() || st.size !== e.size || Math.trunc(st.mtimeMs) !== e.mtimeMs)
          return false;
        if ((st.mode & 0o7777) !== e.mode) return false;
      } else if (e.type === 'symlink') {
        if (readlinkSync(e.path) !== e.target) return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

let memoHostFiles: TreeEntry[] | undefined;

/**
 * The host files of the base image. Finding them runs ldd on ~150 files (seconds on a busy
 * machine), so the list is kept in `os.tmpdir()/faultline/docker-base-files.json` and reused
 * while every file in it is unchanged (size, mtime, mode; symlink targets) and the tools and
 * module folder are the same.
 */
function baseHostFiles(rescan = false): TreeEntry[] {
  if (memoHostFiles !== undefined && !rescan) return memoHostFiles;
  const file = join(tmpdir(), 'faultline', 'docker-base-files.json');
  let key = `${FORMAT}\0${process.execPath}`;
  for (const tool of ['xtables-nft-multi', 'ip', 'tc', 'ss', ...COREUTILS]) {
    const p = TOOL_DIRS.map((d) => join(d, tool)).find((f) => existsSync(f));
    key += `\0${tool}:${p ?? 'missing'}`;
  }
  for (const mods of XTABLES_DIRS.filter((d) => existsSync(d))) {
    key += `\0${mods}:${Math.trunc(statSync(mods).mtimeMs)}:${readdirSync(mods).length}`;
  }
  try {
    const cached = SourceCacheSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    if (!rescan && cached.key === key && stillCurrent(cached.entries)) {
      memoHostFiles = cached.entries;
      return cached.entries;
    }
  } catch {
    // absent or unreadable: recompute
  }
  const entries = hostFilesOfBase();
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.${process.pid}`, JSON.stringify({ key, entries }));
    renameSync(`${file}.${process.pid}`, file);
  } catch {
    // a cache only
  }
  memoHostFiles = entries;
  return entries;
}

/** The base image: the host files and the folders the backend uses. */
export function baseImageSource(options: { rescan?: boolean } = {}): ImageSource {
  const tree = new HostTree();
  const entries = new Map<string, TreeEntry>();
  for (const e of baseHostFiles(options.rescan)) entries.set(e.path, e);
  for (const d of ['/run', '/var/run', SHARED_DIR, '/data', '/opt/faultline']) {
    if (!entries.has(d)) tree.addDirectory(d);
  }
  tree.addDirectory('/tmp', 0o1777);
  // iptables and friends are names of the multi-call binary (the host's may go through
  // /etc/alternatives, which the image does not have).
  const multi = [...entries.values()].find(
    (e) => e.type === 'file' && e.path.endsWith('/xtables-nft-multi'),
  );
  if (multi === undefined) throw new Error('xtables-nft-multi missing from the base image files');
  for (const name of ['iptables', 'iptables-restore', 'iptables-save']) {
    entries.delete(`/usr/sbin/${name}`);
    tree.addSymlink(`/usr/sbin/${name}`, multi.path);
  }
  // `node` at a fixed place whatever the host's path to it.
  if (process.execPath !== '/usr/local/bin/node') {
    tree.addSymlink('/usr/local/bin/node', process.execPath);
  }
  for (const e of tree.list()) if (!entries.has(e.path)) entries.set(e.path, e);
  return {
    entries: [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
    inline: [{ path: DELAY_PROXY_PATH, content: readFileSync(DELAY_PROXY_SOURCE), mode: 0o755 }],
  };
}

/** A stable digest of an image's inputs (paths, modes, sizes, mtimes, inline contents). */
export function digestOf(source: ImageSource, extra: readonly string[] = []): string {
  const h = createHash('sha256');
  h.update(FORMAT);
  for (const x of extra) h.update(`\0extra:${x}`);
  for (const e of source.entries) {
    h.update(
      e.type === 'file'
        ? `\0f:${e.path}:${e.mode}:${e.size}:${e.mtimeMs}`
        : e.type === 'symlink'
          ? `\0l:${e.path}:${e.target}`
          : `\0d:${e.path}:${e.mode}`,
    );
  }
  for (const f of source.inline) h.update(`\0i:${f.path}:${f.mode ?? 0o644}:`).update(f.content);
  return h.digest('hex').slice(0, 16);
}

/** Tags of a repository older than this are pruned when a new one is built. */
const PRUNE_AFTER_MS = 10 * 60_000;

/**
 * Once a new image of a repository is built, its tags of older inputs are removed so they do
 * not pile up: only those created over 10 minutes ago (a run that has just chosen one creates
 * its containers at once), and without force, so an image some container uses stays.
 */
async function pruneOtherTags(
  docker: Dockerode,
  tag: string,
  afterMs = PRUNE_AFTER_MS,
): Promise<void> {
  const repo = tag.slice(0, tag.lastIndexOf(':'));
  const images = await docker
    .listImages({ filters: JSON.stringify({ reference: [`${repo}:*`] }) })
    .catch(() => []);
  const cutoff = (Date.now() - afterMs) / 1000;
  for (const image of images) {
    if (image.Created > cutoff) continue;
    for (const t of image.RepoTags ?? []) {
      if (t === tag || !t.startsWith(`${repo}:`)) continue;
      await docker
        .getImage(t)
        .remove()
        .catch(() => undefined);
    }
  }
  // Builds of the same tag at once (parallel test files) leave the loser untagged.
  const dangling = await docker
    .listImages({ filters: JSON.stringify({ dangling: ['true'], label: ['faultline.image'] }) })
    .catch(() => []);
  for (const image of dangling) {
    await docker
      .getImage(image.Id)
      .remove()
      .catch(() => undefined);
  }
}

async function imageExists(docker: Dockerode, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

const BASE_CHANGES = [
  `ENV ${PATH_ENV}`,
  'CMD ["/bin/sh"]',
  'WORKDIR /',
  'LABEL faultline.image=base',
];

export interface EnsuredImage {
  tag: string;
  built: boolean;
}

export interface BuildOptions {
  /** Mixed into the tag: a different salt is a different image (benchmarks build cold with it). */
  salt?: string;
  /** Find the host files again (ldd), ignoring the cached list. */
  rescan?: boolean;
  /** After a build, remove other tags of the repository older than this (default 10 min). */
  pruneAfterMs?: number;
}

/** The assembled base image, imported as a tar stream unless a tag of the same inputs exists. */
export async function ensureBaseImage(
  docker: Dockerode,
  options: BuildOptions = {},
): Promise<EnsuredImage> {
  const source = baseImageSource(options.rescan === undefined ? {} : { rescan: options.rescan });
  const extra = options.salt === undefined ? BASE_CHANGES : [...BASE_CHANGES, options.salt];
  const tag = `faultline-base:${digestOf(source, extra)}`;
  if (await imageExists(docker, tag)) return { tag, built: false };
  const [repo, version] = tag.split(':') as [string, string];
  // The typings only know a file path; the engine takes the tar as the request body.
  const importImage = docker.importImage.bind(docker) as unknown as (
    tar: NodeJS.ReadableStream,
    options: object,
  ) => Promise<NodeJS.ReadableStream>;
  const tar = tarStream(source.entries, source.inline) as unknown as NodeJS.ReadableStream;
  const stream = await importImage(tar, {
    repo,
    tag: version,
    changes: [
      ...BASE_CHANGES,
      ...(options.salt === undefined ? [] : [`LABEL faultline.salt=${options.salt}`]),
    ],
  });
  await followProgress(docker, stream);
  if (!(await imageExists(docker, tag))) throw new Error(`importing ${tag} did not produce it`);
  if (options.salt === undefined) await pruneOtherTags(docker, tag, options.pruneAfterMs);
  return { tag, built: true };
}

/** A system's image recipe: which host folders/files go where in the node image. */
export const ImageRecipeSchema = z.object({
  files: z.array(
    z.object({
      /** Host path (absolute, or relative to the recipe file's folder). */
      from: z.string().min(1),
      /** Absolute path in the image. */
      to: z.string().regex(/^\//, 'must be an absolute path'),
    }),
  ),
  /** Host executables copied to the same path, with the shared libraries ldd lists. */
  binaries: z.array(z.string().regex(/^\//, 'must be an absolute path')).optional(),
  /** An ordinary image to build on instead of the assembled base. */
  baseImage: z.string().min(1).optional(),
});
export type ImageRecipe = z.infer<typeof ImageRecipeSchema>;

/** `cluster-images/` from source and from dist/. */
function clusterImagesDir(): string {
  for (const rel of ['../../cluster-images/', '../../../cluster-images/']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return fileURLToPath(new URL('../../cluster-images/', import.meta.url));
}

/** Reads and validates `cluster-images/<system>/docker-recipe.json` (paths made absolute). */
export function loadImageRecipe(system: string, root = clusterImagesDir()): ImageRecipe {
  const folder = join(root, system);
  const file = join(folder, 'docker-recipe.json');
  if (!existsSync(file)) {
    throw new Error(`the docker backend has no image recipe for ${system}: ${file} is missing`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not JSON: ${(err as Error).message}`);
  }
  const parsed = ImageRecipeSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`${file}: ${i?.path.join('.') || '(root)'}: ${i?.message}`);
  }
  return {
    ...parsed.data,
    files: parsed.data.files.map((f) => ({
      from: f.from.startsWith('/') ? f.from : join(folder, f.from),
      to: f.to,
    })),
  };
}

/** The recipe's files placed at their image paths (under `root/` of the build context). */
function recipeSource(recipe: ImageRecipe): ImageSource {
  const entries = recipeEntries(recipe);
  entries.push(...recipeEntries({ files: [{ from: findLibfaketime(), to: FAKETIME_LIB }] }));
  return {
    entries: withParents(entries).map((e) => ({ ...e, path: join('/root', e.path) })),
    inline: [],
  };
}

/**
 * What a recipe puts into the image, at image paths: its files and folders (walked), and its
 * binaries at their host paths with the shared libraries ldd lists (symlinks kept).
 */
export function recipeEntries(recipe: ImageRecipe): TreeEntry[] {
  const entries: TreeEntry[] = [];
  const add = (from: string, to: string) => {
    if (!existsSync(from)) {
      throw new Error(`image recipe: ${from} does not exist (run \`npm run build\` first?)`);
    }
    const st = statSync(from);
    if (st.isDirectory()) {
      entries.push({ type: 'directory', path: to, mode: 0o755 });
      for (const name of readdirSync(from).sort()) add(join(from, name), join(to, name));
    } else {
      entries.push({
        type: 'file',
        path: to,
        mode: st.mode & 0o777,
        source: from,
        size: st.size,
        mtimeMs: Math.trunc(st.mtimeMs),
      });
    }
  };
  for (const f of recipe.files) add(f.from, f.to);
  if (recipe.binaries !== undefined && recipe.binaries.length > 0) {
    const tree = new HostTree();
    for (const b of recipe.binaries) {
      if (!existsSync(b)) throw new Error(`image recipe: binary ${b} does not exist`);
      tree.addBinary(b);
    }
    entries.push(...tree.list());
  }
  return entries;
}

function withParents(entries: TreeEntry[]): TreeEntry[] {
  const out = new Map<string, TreeEntry>();
  for (const e of entries) {
    let d = dirname(e.path);
    const parents: string[] = [];
    while (d !== '/' && !out.has(d)) {
      parents.unshift(d);
      d = dirname(d);
    }
    for (const p of parents) out.set(p, { type: 'directory', path: p, mode: 0o755 });
    out.set(e.path, e);
  }
  out.set(SHARED_DIR, { type: 'directory', path: SHARED_DIR, mode: 0o755 });
  out.set('/data', { type: 'directory', path: '/data', mode: 0o755 });
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * The node image of a system: `FROM base` plus the recipe's files and libfaketime, built
 * through the engine's build endpoint from a tar context, tagged by a digest of its inputs
 * (the base image's id included) and rebuilt only when one changed.
 */
export async function ensureSystemImage(
  docker: Dockerode,
  system: string,
  recipe: ImageRecipe,
  base: string,
  options: Pick<BuildOptions, 'salt' | 'pruneAfterMs'> = {},
): Promise<EnsuredImage> {
  const baseInfo = await docker.getImage(base).inspect();
  const source = recipeSource(recipe);
  const salt = options.salt === undefined ? '' : `LABEL faultline.salt=${options.salt}\n`;
  const dockerfile = `FROM ${base}\nCOPY root/ /\n${salt}`;
  // One repository per system and base, so pruning never removes a sibling on another base.
  const onBase = base.startsWith('faultline-base:')
    ? ''
    : `-on-${base
        .replace(/:[^:/]*$/, '')
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')}`;
  const tag = `faultline-${system.toLowerCase()}${onBase}:${digestOf(source, [baseInfo.Id, dockerfile])}`;
  if (await imageExists(docker, tag)) return { tag, built: false };
  const context = tarStream(source.entries, [{ path: 'Dockerfile', content: dockerfile }]);
  const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
    t: tag,
    rm: true,
    forcerm: true,
    labels: { 'faultline.image': system },
  });
  await followProgress(docker, stream);
  if (!(await imageExists(docker, tag))) throw new Error(`building ${tag} did not produce it`);
  if (options.salt === undefined) await pruneOtherTags(docker, tag, options.pruneAfterMs);
  return { tag, built: true };
}
