import type { ClientOp } from '../checker/history/client-op.js';
import type { Key } from '../checker/history/event.js';
import { keyName } from '../checker/models/values.js';
import type { Verdict } from '../checker/porcupine/types.js';

/**
 * A run's outcome in two words: how far it got (status) and what can be concluded (verdict).
 * `valid` is a strong claim: the run did everything it planned, every checker decided, and each
 * had enough evidence. Anything less is `unknown`, with the reasons in words; an anomaly found
 * is `invalid` whatever else happened (it is evidence in itself).
 */

export const RUN_STATUSES = ['complete', 'aborted', 'crashed', 'failed-to-start'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** test.json's status while the run is in progress (a crashed run keeps it until detected). */
export type RecordedStatus = RunStatus | 'running';

export const RUN_VERDICTS = ['valid', 'invalid', 'unknown'] as const;
export type RunVerdict = (typeof RUN_VERDICTS)[number];

/** How much a run must have done before its checkers' "valid" counts. */
export interface EvidenceRules {
  /** Completed ok client ops, over the whole run. */
  minOkOps: number;
  /** Completed ok client ops on each key, for workloads checked key by key. */
  minOkOpsPerKey: number;
}

export const DEFAULT_EVIDENCE: EvidenceRules = { minOkOps: 10, minOkOpsPerKey: 1 };

/** Ops that are the system's own answers to the workload (replica dumps are not). */
const counts = (op: ClientOp) => op.f !== 'replica-read';

/**
 * Sentences saying where the run had too little evidence (empty: enough). With `perKey`, every
 * key that was operated on must have its own minimum of ok ops: a key with none was not tested.
 */
export function evidenceProblems(
  ops: readonly ClientOp[],
  rules: EvidenceRules,
  perKey: boolean,
): string[] {
  const problems: string[] = [];
  let ok = 0;
  let invoked = 0;
  const perKeyOk = new Map<Key, number>();
  for (const op of ops) {
    if (!counts(op)) continue;
    invoked++;
    if (perKey && op.key !== undefined && !perKeyOk.has(op.key)) perKeyOk.set(op.key, 0);
    if (op.status !== 'ok') continue;
    ok++;
    if (perKey && op.key !== undefined) perKeyOk.set(op.key, (perKeyOk.get(op.key) ?? 0) + 1);
  }
  if (ok < rules.minOkOps) {
    problems.push(
      invoked === 0
        ? 'no client operation was recorded: nothing was tested'
        : `only ${ok} of ${invoked} client operations completed ok; at least ${rules.minOkOps} are needed for a verdict (evidence.minOkOps, --min-ok-ops)`,
    );
  }
  if (perKey && rules.minOkOpsPerKey > 0) {
    const thin = [...perKeyOk].filter(([, n]) => n < rules.minOkOpsPerKey);
    if (thin.length > 0) {
      const shown = thin
        .slice(0, 5)
        .map(([k, n]) => `${keyName(k)} (${n})`)
        .join(', ');
      problems.push(
        `${thin.length} of ${perKeyOk.size} keys had fewer than ${rules.minOkOpsPerKey} ok operation${rules.minOkOpsPerKey === 1 ? '' : 's'}: ${shown}${thin.length > 5 ? ', …' : ''} (evidence.minOkOpsPerKey, --min-ok-ops-per-key)`,
      );
    }
  }
  return problems;
}

export interface CheckerJudgement {
  name: string;
  valid: Verdict;
  /** Why the checker could not decide, when it says. */
  reason?: string;
}

export interface JudgeInput {
  status: RunStatus;
  /** What stopped the run early (the error, or the signal), for the reason sentence. */
  statusDetail?: string;
  checkers: readonly CheckerJudgement[];
  /** Planned faults not carried out, or whose primitive failed. */
  faultProblems: readonly string[];
  evidenceProblems: readonly string[];
}

export interface Judgement {
  verdict: RunVerdict;
  /** Why the verdict is not `valid`, one sentence each (empty for valid). */
  reasons: string[];
}

const STATUS_REASON: Record<Exclude<RunStatus, 'complete'>, string> = {
  aborted: 'the run was stopped before it finished',
  crashed: 'the run did not finish: it stopped on an error or was killed',
  'failed-to-start': 'the cluster did not start, so nothing was tested',
};

/** The verdict from everything a run knows about itself. */
export function judgeRun(input: JudgeInput): Judgement {
  const anomalies = input.checkers.filter((c) => c.valid === false);
  if (anomalies.length > 0) {
    return {
      verdict: 'invalid',
      reasons: anomalies.map((c) => `the ${c.name} checker found an anomaly`),
    };
  }
  const reasons: string[] = [];
  if (input.status !== 'complete') {
    const detail = input.statusDetail === undefined ? '' : `: ${input.statusDetail}`;
    reasons.push(`${STATUS_REASON[input.status]}${detail}`);
  }
  reasons.push(...input.faultProblems, ...input.evidenceProblems);
  for (const c of input.checkers) {
    if (c.valid === 'unknown') {
      reasons.push(`the ${c.name} checker could not decide${c.reason ? `: ${c.reason}` : ''}`);
    }
  }
  if (input.checkers.length === 0) reasons.push('no checker judged the history');
  return { verdict: reasons.length === 0 ? 'valid' : 'unknown', reasons };
}

/** The verdict in the checkers' own terms (true / false / "unknown"), as results.json's `valid`. */
export function verdictAsValid(v: RunVerdict): Verdict {
  return v === 'valid' ? true : v === 'invalid' ? false : 'unknown';
}
