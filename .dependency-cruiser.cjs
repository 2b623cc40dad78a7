// The layers, bottom to top (docs/architecture.md): imports point down, never up, and the
// folders of one layer do not import each other. `npm run depcheck` fails on any violation
// and on any import cycle. Tests, benchmarks and test fakes may reach anywhere.
const LAYERS = [
  ['checker'],
  ['core'],
  ['generators'],
  ['backends', 'nemesis', 'workloads', 'cluster-images'],
  ['harness'],
  ['api'],
  ['cli'],
];
const rank = Object.fromEntries(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i])));
const SUPPORT = '(\\.test\\.ts$|/testing/|/test/|^test/|^bench/|conformance\\.ts$)';

const forbidden = [
  {
    name: 'no-cycle',
    severity: 'error',
    from: { pathNot: SUPPORT },
    to: { circular: true, pathNot: SUPPORT },
  },
];
for (const [folder, i] of Object.entries(rank)) {
  const above = Object.entries(rank)
    .filter(([other, j]) => j > i || (j === i && other !== folder))
    .map(([other]) => other);
  forbidden.push({
    name: `${folder}-imports-down-only`,
    comment: `${folder}/ may import only from the layers below it`,
    severity: 'error',
    from: { path: `^${folder}/`, pathNot: SUPPORT },
    to: { path: `^(${above.join('|')})/` },
  });
}
// A system's adapter (cluster-images/*/system.ts and the like) is written against the public
// contracts only, the way a user's system is: core/ (which the public api entry re-exports).
forbidden.push({
  name: 'systems-use-the-public-contracts-only',
  comment: 'cluster-images/* may import only from core/ (the contracts the public api exports)',
  severity: 'error',
  from: { path: '^cluster-images/', pathNot: SUPPORT },
  to: { path: '^(checker|generators|backends|nemesis|workloads|harness|api|cli)/' },
});
// The store itself knows nothing of faultline; only its adapter (cluster-images/*/system.ts)
// uses faultline's contracts, the same ones a user's system uses.
forbidden.push({
  name: 'system-sources-stand-alone',
  severity: 'error',
  from: { path: '^cluster-images/[^/]+/src/' },
  to: { path: '^(checker|core|generators|backends|nemesis|workloads|harness|api|cli)/' },
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
