import { describeFault } from './plan.js';
import type { FaultPlan } from './schema.js';

/** What the audit reads of a history event: the nemesis's own fields. */
export interface AuditEvent {
  process: unknown;
  f: string;
  fault?: unknown;
  error?: unknown;
}

const START_FS = new Set(['partition-start', 'kill', 'pause', 'link-start', 'clock-offset']);

/**
 * Whether the history shows every planned fault carried out: each plan entry's start event is
 * recorded (the executor tags it with `fault: <entry index>`) and no primitive of it failed.
 * One sentence per problem (empty: all carried out). Read from the history on disk, so a
 * re-check of a run folder reaches the same conclusion as the run.
 */
export function auditFaults(plan: FaultPlan, events: readonly AuditEvent[]): string[] {
  const attempted = new Set<number>();
  const problems: string[] = [];
  for (const e of events) {
    if (e.process !== 'nemesis' || typeof e.fault !== 'number') continue;
    const entry = plan.entries[e.fault];
    if (entry === undefined) continue;
    if (START_FS.has(e.f)) attempted.add(e.fault);
    if (e.error !== undefined) {
      problems.push(
        `fault ${e.fault + 1} (${describeFault(entry.fault)}): ${e.f} failed: ${String(e.error)}`,
      );
    }
  }
  const missing = plan.entries.filter((e) => !attempted.has(e.index));
  if (missing.length > 0) {
    const first = missing[0]!;
    problems.push(
      `${missing.length} of ${plan.entries.length} planned faults ${missing.length === 1 ? 'was' : 'were'} not carried out` +
        ` (the first: fault ${first.index + 1}, ${describeFault(first.fault)}, due at ${(first.startMs / 1000).toFixed(1)} s)`,
    );
  }
  return problems;
}
