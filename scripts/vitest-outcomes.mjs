// A vitest reporter that writes what scripts/count-results.mjs counts: every test with its state
// and the mode it was declared with, and every suite and file with the errors of its own hooks
// and collection. vitest's JSON reporter cannot be counted from: a test skipped because its
// suite's beforeAll threw is `skipped` there, exactly like an it.skip, and the hook's error is
// not in it at all. Here the first keeps mode 'run' while the second has mode 'skip', and the
// suite carries the error.
//
// Written to the file named by FAULTLINE_OUTCOMES_FILE (or the `outputFile` option).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const messages = (errors) => (errors ?? []).map((e) => String(e?.message ?? e));

/**
 * Plain records of a finished run, from vitest's reported tasks (TestModule, TestSuite,
 * TestCase). `parent` is the id of the enclosing suite (null: the file itself).
 */
export function outcomesOf(testModules, unhandledErrors, reason) {
  const parentId = (task) => (task.parent?.type === 'suite' ? task.parent.id : null);
  return {
    reason: reason ?? null,
    unhandledErrors: messages(unhandledErrors),
    modules: testModules.map((m) => ({
      file: m.relativeModuleId,
      state: m.state(),
      errors: messages(m.errors()),
      suites: [...m.children.allSuites()].map((s) => ({
        id: s.id,
        name: s.fullName,
        parent: parentId(s),
        state: s.state(),
        errors: messages(s.errors()),
      })),
      tests: [...m.children.allTests()].map((t) => ({
        name: t.fullName,
        parent: parentId(t),
        mode: t.options.mode,
        state: t.result().state,
      })),
    })),
  };
}

export default class OutcomesReporter {
  constructor(options = {}) {
    this.outputFile = options.outputFile ?? process.env.FAULTLINE_OUTCOMES_FILE;
  }

  onTestRunEnd(testModules, unhandledErrors, reason) {
    if (!this.outputFile) return;
    mkdirSync(dirname(this.outputFile), { recursive: true });
    writeFileSync(
      this.outputFile,
      `${JSON.stringify(outcomesOf(testModules, unhandledErrors, reason), null, 2)}\n`,
    );
  }
}
