// Bundles the leaderless store into files that need nothing but Node.js 20:
// `node cluster-images/leaderless/build.mjs` → cluster-images/leaderless/dist/leaderless.js, a
// small loader (src/loader.cjs) that compiles the real bundle, dist/leaderless.bundle.cjs, with a
// V8 code cache (see the loader), plus that cache, produced here by one run of the bundle.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url);
// LEADERLESS_OUTFILE bundles elsewhere (a private work-in-progress build).
const outfile =
  process.env.LEADERLESS_OUTFILE ?? fileURLToPath(new URL('dist/leaderless.js', here));
const bundleFile = outfile.replace(/\.js$/, '') + '.bundle.cjs';
/**
 * zod re-exports every message locale (~300 kB the node would parse at each start, which counts
 * against the start-up target); the node only ever uses English messages.
 */
const englishOnlyZodLocales = {
  name: 'english-only-zod-locales',
  setup(b) {
    b.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
      args.importer.includes('/node_modules/zod/')
        ? { path: join(args.resolveDir, '../locales/en.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

const result = await build({
  entryPoints: [fileURLToPath(new URL('src/main.ts', here))],
  outfile: bundleFile,
  bundle: true,
  platform: 'node',
  // A classic script (CommonJS), so the loader can compile it with vm.Script and a code cache.
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  // LEADERLESS_MINIFY=0 keeps names readable in profiles
  minify: process.env.LEADERLESS_MINIFY !== '0',
  keepNames: true,
  write: false,
  plugins: [englishOnlyZodLocales],
  logLevel: 'warning',
});
mkdirSync(dirname(outfile), { recursive: true });
// Write then rename, so a node starting while another build runs never reads half a file.
for (const file of result.outputFiles) {
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}
// The loader under the documented name; it finds the bundle by its own file name.
const loaderTmp = `${outfile}.${process.pid}.tmp`;
copyFileSync(fileURLToPath(new URL('src/loader.cjs', here)), loaderTmp);
renameSync(loaderTmp, outfile);
// The repository's package.json says "type": "module"; the loader is CommonJS.
writeFileSync(join(dirname(outfile), 'package.json'), '{ "type": "commonjs" }\n');
// Drop caches of earlier bundles, then produce this one's: `--help` runs every module's top
// level, which is most of what a start compiles (a node refreshes the cache once if not).
const dist = dirname(outfile);
const stem = bundleFile.slice(dist.length + 1);
for (const f of readdirSync(dist)) {
  if (f.startsWith(`${stem}.`) && f.endsWith('.cache')) rmSync(join(dist, f), { force: true });
}
spawnSync(process.execPath, [outfile, '--help'], {
  stdio: 'ignore',
  env: { ...process.env, LEADERLESS_CODE_CACHE: 'produce' },
});
