#!/usr/bin/env node
// The whole test suite, as README.md and .ci/run call it: build, typecheck, lint, the dependency layers, then every
// vitest test. Ends with one line `N passed, N failed` (build, typecheck, lint and the layers count as one
// check each) and exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { countOutcomes } from './count-results.mjs';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, '.test-results');
const extraArgs = process.argv.slice(2);
let passed = 0;
let failed = 0;

function step(name, cmd, args) {
  process.stdout.write(`\n== ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status === 0) {
    passed += 1;
    return true;
  }
  failed += 1;
  process.stdout.write(`== ${name} FAILED (exit ${r.status ?? r.signal})\n`);
  return false;
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const built = step('build', 'npm', ['run', 'build', '--silent']);
step('typecheck', 'npm', ['run', 'typecheck', '--silent']);
step('lint', npx, ['biome', 'check', '.']);
// Imports point down the layers (docs/architecture.md), with no cycle.
step('dependency layers', 'npm', ['run', 'depcheck', '--silent']);

if (built) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // The docker backend's tests need an engine: install and start one when absent (as root),
  // and stop at the end only what this run started.
  process.env.FAULTLINE_DOCKER_STATE = join(outDir, 'docker');
  step('docker engine', 'sh', ['scripts/ensure-docker.sh']);
  // The etcd system's tests run the host's etcd 3.4 in containers: install it when absent (as root).
  step('etcd', 'sh', ['scripts/ensure-etcd.sh']);
  // Likewise Redis 7 and its Sentinel, for the `redis` system.
  step('redis', 'sh', ['scripts/ensure-redis.sh']);
  // And ZooKeeper 3.8 with OpenJDK 17 (its jlink trims the runtime), for `zookeeper`.
  step('zookeeper', 'sh', ['scripts/ensure-zookeeper.sh']);
  // Debian's Chromium, which the browser tests of the timeline and `faultline serve` drive.
  step('chromium', 'sh', ['scripts/ensure-chromium.sh']);
  // The ssh backend's tests make sshd hosts in network namespaces: install openssh-server etc. when absent (as root).
  step('ssh testbed tools', 'sh', ['scripts/ssh-testbed.sh', 'ensure']);
  const report = join(outDir, 'vitest.json');
  // Counted from scripts/vitest-outcomes.mjs's records, not from the JSON report: there a test
  // whose beforeAll threw is merely "skipped" (scripts/count-results.mjs says what counts how).
  const outcomes = join(outDir, 'outcomes.json');
  process.stdout.write('\n== tests: vitest run\n');
  const r = spawnSync(
    npx,
    [
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile=${report}`,
      `--reporter=${join(root, 'scripts', 'vitest-outcomes.mjs')}`,
      ...extraArgs,
    ],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, FAULTLINE_TEST: '1', FAULTLINE_OUTCOMES_FILE: outcomes },
    },
  );
  try {
    const counted = countOutcomes(JSON.parse(readFileSync(outcomes, 'utf8')));
    passed += counted.passed;
    failed += counted.failed;
    for (const note of counted.notes) process.stdout.write(`== counted failed: ${note}\n`);
    if (r.status !== 0 && counted.failed === 0) {
      process.stdout.write(`== vitest failed (exit ${r.status ?? r.signal}) with no failed test\n`);
      failed += 1;
    }
  } catch (err) {
    process.stdout.write(
      `== vitest produced no outcomes (exit ${r.status ?? r.signal}): ${err.message}\n`,
    );
    failed += 1;
  }
} else {
  process.stdout.write('\n== tests not run: the build failed\n');
  failed += 1;
}

if (built) spawnSync('sh', ['scripts/stop-docker.sh'], { cwd: root, stdio: 'inherit' });
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
