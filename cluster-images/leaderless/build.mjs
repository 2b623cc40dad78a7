// Bundles the leaderless store into one file that needs nothing but Node.js 20:
// `node cluster-images/leaderless/build.mjs` → cluster-images/leaderless/dist/leaderless.js.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url);
// LEADERLESS_OUTFILE bundles elsewhere (a private work-in-progress build).
const outfile =
  process.env.LEADERLESS_OUTFILE ?? fileURLToPath(new URL('dist/leaderless.js', here));
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
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  minify: true,
  keepNames: true,
  write: false,
  plugins: [englishOnlyZodLocales],
  logLevel: 'warning',
  // Bundled CommonJS code may call require(); give the ESM output a real one.
  banner: {
    js: "import { createRequire as __leaderlessRequire } from 'node:module'; const require = __leaderlessRequire(import.meta.url);",
  },
});
mkdirSync(dirname(outfile), { recursive: true });
// Write then rename, so a node starting while another build runs never reads half a file.
for (const file of result.outputFiles) {
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}
