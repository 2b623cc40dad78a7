import { join } from 'node:path';
import type { ClientOp } from '../../checker/history/client-op.js';
import { readJsonlHistory } from '../../checker/history/jsonl.js';
import { pairOperations } from '../../checker/history/pair.js';
import type { Verdict } from '../../checker/porcupine/types.js';
import type { Results } from '../../checker/results.js';
import { RESULTS_VERSION, writeResults } from '../../checker/results.js';
import type { TimelineInput } from '../../checker/timeline/index.js';
import type { NemesisDriver } from '../../core/nemesis.js';
import type { CheckerReport, Workload } from '../../workloads/index.js';
import { FILES } from '../results-folder.js';
import type { CheckerJudgement, RunStatus, RunVerdict } from '../run-verdict.js';
import { evidenceProblems, judgeRun, verdictAsValid } from '../run-verdict.js';
import type { ResolvedSpec } from '../spec.js';
import { errorText } from './errors.js';
import { writeReport, writeSummary } from './report.js';

export interface CheckerVerdict {
  name: string;
  valid: Verdict;
}

/** A checked run: the checkers' verdicts and the run's verdict with its reasons. */
export interface CheckedRun {
  /** The run's verdict in the checkers' terms (true / false / "unknown"). */
  valid: Verdict;
  verdict: RunVerdict;
  reasons: string[];
  checkers: CheckerVerdict[];
  results: Results;
}

export interface RunFacts {
  status: RunStatus;
  statusDetail?: string;
  warnings: readonly string[];
  /** What the run planned and did not do (heal failed, nemesis stopped early). */
  problems: readonly string[];
  /** The fault plan (test.json), audited against the history's nemesis events. */
  plan: unknown;
  nemesis: NemesisDriver;
}

/** Why a checker said "unknown", in its own words when it gave any. */
function unknownReason(result: Results['checkers'][string]): string | undefined {
  const parts = (result as { partitions?: { key: string; valid: Verdict; reason?: string }[] })
    .partitions;
  const undecided = parts?.filter((p) => p.valid === 'unknown') ?? [];
  if (undecided.length > 0) {
    const first = undecided[0]!;
    const where = first.key === '' ? 'the history' : `key ${first.key}`;
    const more = undecided.length > 1 ? ` (and ${undecided.length - 1} more keys)` : '';
    return `${where}: ${first.reason ?? 'no verdict'}${more}`;
  }
  const r = result as { reason?: unknown; error?: unknown; summary?: unknown };
  for (const v of [r.reason, r.error]) if (typeof v === 'string') return v;
  if (Array.isArray(r.summary) && typeof r.summary[0] === 'string') return r.summary[0];
  return undefined;
}

/**
 * Stage 6, check (and report): the history as written to disk (what `faultline check` reads),
 * every checker of the workload, the fault audit and the evidence rule, then the verdict;
 * writes the pictures and results.json.
 */
export async function checkRun(
  dir: string,
  workload: Workload,
  spec: ResolvedSpec,
  facts: RunFacts,
): Promise<CheckedRun> {
  const started = performance.now();
  const history = await readJsonlHistory(join(dir, FILES.history));
  const events = history.events;
  const ops: ClientOp[] = pairOperations(events);
  const checkers: Record<string, Results['checkers'][string]> = {};
  const verdicts: CheckerVerdict[] = [];
  const judgements: CheckerJudgement[] = [];
  let timeline: TimelineInput | undefined;
  let partitions = 0;
  const timeoutMs = (spec.workload.options as { checkTimeout?: number }).checkTimeout;
  const checkerWarnings: string[] = [];
  for (const checker of workload.checkers) {
    let report: CheckerReport;
    try {
      report = await checker.check({
        events,
        ops,
        ...(typeof timeoutMs === 'number' ? { timeoutMs: timeoutMs * 1000 } : {}),
        ...(facts.nemesis.kinds !== undefined ? { faultStyles: facts.nemesis.kinds } : {}),
      });
    } catch (e) {
      // A verdict, never a crash: the other checkers' results and the history still count.
      const sentence = `the ${checker.name} checker could not judge the history: ${errorText(e)}`;
      checkerWarnings.push(sentence);
      report = { result: { valid: 'unknown', error: errorText(e), summary: [sentence] } };
    }
    const result = report.result as Results['checkers'][string];
    checkers[checker.name] = result;
    verdicts.push({ name: checker.name, valid: result.valid });
    const reason = result.valid === 'unknown' ? unknownReason(result) : undefined;
    judgements.push({ name: checker.name, valid: result.valid, ...(reason ? { reason } : {}) });
    const parts = (result as { partitions?: unknown[] }).partitions;
    if (Array.isArray(parts)) partitions += parts.length;
    if (timeline === undefined || (report.timeline && result.valid !== true)) {
      timeline = report.timeline ?? timeline;
    }
  }
  const faultProblems =
    facts.plan !== undefined && facts.nemesis.audit ? facts.nemesis.audit(facts.plan, events) : [];
  const judgement = judgeRun({
    status: facts.status,
    ...(facts.statusDetail !== undefined ? { statusDetail: facts.statusDetail } : {}),
    checkers: judgements,
    faultProblems: [...facts.problems, ...faultProblems],
    evidenceProblems: evidenceProblems(ops, spec.evidence, workload.checkedPerKey === true),
  });
  const valid = verdictAsValid(judgement.verdict);
  const results: Results = {
    faultline: RESULTS_VERSION,
    history: FILES.history,
    format: 'jsonl',
    valid,
    model: workload.check?.model ?? 'none',
    ops: ops.length,
    partitions,
    elapsedMs: performance.now() - started,
    warnings: [...facts.warnings, ...history.warnings.map((w) => w.message), ...checkerWarnings],
    run: { status: facts.status, verdict: judgement.verdict, reasons: judgement.reasons },
    checkers,
  };
  writeReport(dir, spec, ops, events, timeline, results.warnings, facts.nemesis.kinds);
  writeSummary(dir, spec, results, ops, events, facts.nemesis.kinds);
  await writeResults(dir, results);
  return { valid, ...judgement, checkers: verdicts, results };
}
