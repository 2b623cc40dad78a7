// The entry point `dist/leaderless.js` (copied there by build.mjs): compiles the real bundle,
// `leaderless.bundle.cjs` beside it, with a V8 code cache, so a start skips most of parsing and
// compiling it (Node 20 has no module.enableCompileCache). The cache sits next to the bundle,
// named by a hash of the bundle's text: V8 checks a cache only against the source's length, so
// a rebuilt bundle must never meet an old cache. A missing or rejected cache is no error: the
// bundle is compiled from source and, once the node has run a second, the cache is (re)written
// for the next start (silently skipped where the directory is read-only).
// LEADERLESS_CODE_CACHE=off disables it; =produce writes it at exit (used by the build).
// It is CommonJS (dist/package.json says so): a CommonJS main skips Node's ESM loader set-up.
'use strict';
const { createHash } = require('node:crypto');
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

const bundle = `${__filename.replace(/\.js$/, '')}.bundle.cjs`;
const source = readFileSync(bundle, 'utf8');
const mode = process.env.LEADERLESS_CODE_CACHE;
const cacheFile = `${bundle}.${createHash('sha1').update(source).digest('hex').slice(0, 16)}.cache`;
let cachedData;
if (mode !== 'off' && mode !== 'produce') {
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache yet
  }
}
// The CommonJS wrapper on the first line keeps the bundle's own line numbers.
const script = new vm.Script(
  `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
  cachedData === undefined ? { filename: bundle } : { filename: bundle, cachedData },
);

function saveCache() {
  try {
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    // read-only install or full disk: starts just compile from source
  }
}
if (mode === 'produce') process.on('exit', saveCache);
else if (mode !== 'off' && (cachedData === undefined || script.cachedDataRejected)) {
  setTimeout(saveCache, 1000).unref();
}

const bundleModule = { exports: {} };
script.runInThisContext()(
  bundleModule.exports,
  createRequire(bundle),
  bundleModule,
  bundle,
  dirname(bundle),
);
