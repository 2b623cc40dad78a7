import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { defaultRunDeps } from '../api/registries.js';
import { canScanProcesses, processesOfRun } from '../backends/local/registry.js';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import { pairOperations } from '../checker/history/pair.js';
import type { Results } from '../checker/results.js';
import { readResults } from '../checker/results.js';
import { leaderlessBinary } from '../cluster-images/leaderless/system.js';
import type { RunOutcome } from '../harness/runner.js';
import { runTest } from '../harness/runner.js';
import type { TestSpecInput } from '../harness/spec.js';
import { parseSpec, resolveSpec } from '../harness/spec.js';

/** A results root for one test file; `cleanup` removes it (call it from afterAll). */
export function resultsRoot(): { out: string; cleanup(): void } {
  const out = mkdtempSync(join(tmpdir(), 'faultline-e2e-'));
  return { out, cleanup: () => rmSync(out, { recursive: true, force: true }) };
}

export interface E2eRun {
  outcome: RunOutcome;
  results: Results;
  events: HistoryEvent[];
  ops: ClientOp[];
  /** test.json as written. */
  test: { runId: string; plan: { entries: { fault: { kind: string } }[] } };
}

/**
 * One seeded run of the leaderless store (local backend unless the spec names another, e.g.
 * `backend: 'docker'`), with the results folder read back; asserts what every run must leave: a
 * readable folder and no local node processes (a docker test checks its containers itself).
 */
export async function e2eRun(spec: TestSpecInput & { seed: number; out: string }): Promise<E2eRun> {
  expect(existsSync(leaderlessBinary()), 'build the store first: npm run build').toBe(true);
  const resolved = resolveSpec(parseSpec({ nodes: 3, ...spec }), () => 0);
  const outcome = await runTest(resolved, defaultRunDeps());
  const results = await readResults(join(outcome.dir, 'results.json'));
  expect(results.valid).toBe(outcome.valid);
  const { events, warnings } = await readJsonlHistory(join(outcome.dir, 'history.jsonl'));
  expect(warnings).toEqual([]);
  const test = JSON.parse(readFileSync(join(outcome.dir, 'test.json'), 'utf8')) as E2eRun['test'];
  if (canScanProcesses()) expect(processesOfRun(test.runId)).toEqual([]);
  return { outcome, results, events, ops: pairOperations(events), test };
}

/** The verdict of one checker in results.json. */
export const verdictOf = (r: E2eRun, checker: string) => r.results.checkers[checker]?.valid;

/** The `summary` sentences of one checker. */
export const summaryOf = (r: E2eRun, checker: string): string[] =>
  ((r.results.checkers[checker] as { summary?: string[] } | undefined)?.summary ?? []).slice();

/** Fault kinds the plan of the run carried out. */
export const plannedKinds = (r: E2eRun) =>
  [...new Set(r.test.plan.entries.map((e) => e.fault.kind))].sort();
