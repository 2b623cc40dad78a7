/**
 * Random runs of simulated replicated data types for property tests: each process runs its
 * operations one after another with random gaps and durations; each operation that takes effect
 * does so at a random instant inside its interval (an indeterminate one may take effect later,
 * or never). The simulations (in the tests) decide what reads return and what the replicas
 * finally hold, so the expected anomalies are known independently of the checkers.
 */
import fc from 'fast-check';
import type { ClientOpStatus } from '../history/client-op.js';

export interface PlannedOp {
  /** Index into the run's ops (in generation order). */
  id: number;
  /** The simulated client (a fresh history process after each indeterminate op). */
  client: number;
  process: number;
  kind: number;
  /** Invoke and completion times, ms. */
  at: number;
  end: number;
  status: ClientOpStatus;
  /** When it took effect (ms), or null if it never did. */
  effect: number | null;
  /** A random number in [0, 1) the simulation may use (a choice of replica, a delta...). */
  pick: number;
  pick2: number;
}

// Unbiased: fast-check leans towards edge values by default, which would put every op on one
// replica or one key and make every outcome the same.
const percent = fc.noBias(fc.nat({ max: 99 }));
const unit = fc.noBias(fc.nat({ max: 9999 })).map((n) => n / 10_000);
const step = fc.record({
  kind: percent,
  gap: fc.noBias(fc.integer({ min: 0, max: 4 })),
  dur: fc.noBias(fc.integer({ min: 1, max: 8 })),
  frac: unit,
  outcome: percent,
  applied: fc.boolean(),
  pick: unit,
  pick2: unit,
});

/** Up to `clients` clients, each running up to `perClient` operations. */
export function plannedRun(clients = 3, perClient = 6): fc.Arbitrary<PlannedOp[]> {
  return fc
    .array(fc.array(step, { minLength: 1, maxLength: perClient }), {
      minLength: 1,
      maxLength: clients,
    })
    .map((perClientSteps) => {
      const ops: PlannedOp[] = [];
      perClientSteps.forEach((steps, client) => {
        let t = 0;
        let process = client * 100;
        steps.forEach((s, i) => {
          const at = t + s.gap;
          const end = at + s.dur;
          const last = i === steps.length - 1;
          const status: ClientOpStatus =
            s.outcome < 70
              ? 'ok'
              : s.outcome < 85
                ? 'fail'
                : last && s.outcome > 95
                  ? 'pending'
                  : 'info';
          const effect =
            status === 'ok'
              ? at + s.frac * s.dur
              : status === 'fail' || !s.applied
                ? null
                : at + s.frac * s.dur * 3;
          ops.push({
            id: ops.length,
            client,
            process,
            kind: s.kind,
            at,
            end,
            status,
            effect,
            pick: s.pick,
            pick2: s.pick2,
          });
          if (status === 'info') process++;
          t = end;
        });
      });
      return ops;
    });
}
