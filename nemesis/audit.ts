import type { BUILTIN_KINDS } from './kinds/index.js';
import { describeFault, loose } from './plan.js';
import type { AnyFaultKind, FaultKinds, FaultPlanOf, LoosePlannedFault } from './registry.js';

/** What the audit reads of a history event: the nemesis's own fields. */
export interface AuditEvent {
  process: unknown;
  f: string;
  fault?: unknown;
  error?: unknown;
}

/**
 * Whether the history shows every planned fault carried out: each plan entry's start event is
 * recorded (the executor tags it with `fault: <entry index>`) and no primitive of it failed.
 * One sentence per problem (empty: all carried out). Read from the history on disk, so a
 * re-check of a run folder reaches the same conclusion as the run. `kinds`: the registry the
 * plan was made with (faultline's own when left out).
 */
export function auditFaults<K extends readonly AnyFaultKind[] = typeof BUILTIN_KINDS>(
  plan: FaultPlanOf<K>,
  events: readonly AuditEvent[],
  kinds?: FaultKinds<K>,
): string[] {
  const reg = loose(kinds);
  // The events that start a fault, of any kind.
  const startFs = new Set(reg.list.map((k) => k.events.open));
  const describe = (fault: unknown) => describeFault(fault as LoosePlannedFault, reg);
  const attempted = new Set<number>();
  const problems: string[] = [];
  for (const e of events) {
    if (e.process !== 'nemesis' || typeof e.fault !== 'number') continue;
    const entry = plan.entries[e.fault];
    if (entry === undefined) continue;
    if (startFs.has(e.f)) attempted.add(e.fault);
    if (e.error !== undefined) {
      problems.push(
        `fault ${e.fault + 1} (${describe(entry.fault)}): ${e.f} failed: ${String(e.error)}`,
      );
    }
  }
  const missing = plan.entries.filter((e) => !attempted.has(e.index));
  if (missing.length > 0) {
    const first = missing[0]!;
    problems.push(
      `${missing.length} of ${plan.entries.length} planned faults ${missing.length === 1 ? 'was' : 'were'} not carried out` +
        ` (the first: fault ${first.index + 1}, ${describe(first.fault)}, due at ${(first.startMs / 1000).toFixed(1)} s)`,
    );
  }
  return problems;
}
