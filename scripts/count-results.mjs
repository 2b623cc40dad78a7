// Counts a vitest run for scripts/test.mjs's closing line, from the records that
// scripts/vitest-outcomes.mjs writes. Nothing that failed may hide in "skipped":
//   - a test that passed counts passed, one that failed counts failed;
//   - a test declared to run (mode 'run' or 'only') that did not run because a beforeAll of its
//     file or of an enclosing suite threw counts failed (vitest reports it as skipped);
//   - a test declared to run that never finished (pending: the run was cut short) counts failed;
//   - a file or suite whose own errors (a failed import, an afterAll that threw) made no test
//     fail counts as one failure; so does every unhandled error;
//   - only tests declared skip/todo, or skipped at run time by ctx.skip() with no failed setup
//     around them, count skipped.

/**
 * @typedef {{ id: string, name: string, parent: string | null, state: string, errors: string[] }} SuiteOutcome
 * @typedef {{ name: string, parent: string | null, mode: string, state: string }} TestOutcome
 * @typedef {{ file: string, state: string, errors: string[], suites: SuiteOutcome[], tests: TestOutcome[] }} ModuleOutcome
 * @typedef {{ reason: string | null, unhandledErrors: string[], modules: ModuleOutcome[] }} Outcomes
 */

const firstLine = (s) => String(s).split('\n')[0];

/**
 * @param {Outcomes} outcomes
 * @returns {{ passed: number, failed: number, skipped: number, notes: string[] }} `notes` says,
 *   one line each, what counted failed without being a failed test.
 */
export function countOutcomes(outcomes) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const notes = [];

  for (const m of outcomes.modules ?? []) {
    const suites = new Map((m.suites ?? []).map((s) => [s.id, s]));
    /** Tests counted failed because of each errored suite (or '' for the file). */
    const charged = new Map();
    /** The nearest enclosing suite with errors, else the file when it has errors, else null. */
    const failedSetup = (parent) => {
      for (let id = parent; id !== null && id !== undefined; ) {
        const s = suites.get(id);
        if (!s) break;
        if ((s.errors ?? []).length > 0) return s.id;
        id = s.parent;
      }
      return (m.errors ?? []).length > 0 ? '' : null;
    };

    for (const t of m.tests ?? []) {
      if (t.state === 'passed') {
        passed += 1;
      } else if (t.state === 'failed') {
        failed += 1;
      } else if (t.mode === 'run' || t.mode === 'only') {
        const setup = failedSetup(t.parent);
        if (setup !== null) {
          failed += 1;
          charged.set(setup, (charged.get(setup) ?? 0) + 1);
        } else if (t.state === 'pending') {
          failed += 1;
          notes.push(`${m.file} > ${t.name}: never finished`);
        } else {
          skipped += 1; // skipped at run time (ctx.skip)
        }
      } else {
        skipped += 1; // declared skip or todo
      }
    }

    const errored = [
      ...((m.errors ?? []).length > 0 ? [{ key: '', name: m.file, errors: m.errors }] : []),
      ...(m.suites ?? [])
        .filter((s) => (s.errors ?? []).length > 0)
        .map((s) => ({ key: s.id, name: `${m.file} > ${s.name}`, errors: s.errors })),
    ];
    for (const e of errored) {
      const n = charged.get(e.key) ?? 0;
      if (n > 0) {
        notes.push(
          `${e.name}: setup failed (${firstLine(e.errors[0])}); ${n} test(s) not run, counted failed`,
        );
      } else {
        failed += 1;
        notes.push(`${e.name}: ${firstLine(e.errors[0])}; counted as one failure`);
      }
    }
  }

  for (const u of outcomes.unhandledErrors ?? []) {
    failed += 1;
    notes.push(`unhandled error: ${firstLine(u)}`);
  }
  return { passed, failed, skipped, notes };
}
