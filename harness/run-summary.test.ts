import { describe, expect, it } from 'vitest';
import type { FaultFailover } from '../checker/failover.js';
import type { Results } from '../checker/results.js';
import {
  anomalySentences,
  availabilityLine,
  convergenceLine,
  failoverLine,
} from './run-summary.js';

const base: Omit<Results, 'checkers'> = {
  faultline: 1,
  history: 'history.jsonl',
  format: 'jsonl',
  valid: false,
  model: 'kv',
  ops: 10,
  partitions: 2,
  elapsedMs: 1,
  warnings: [],
};

describe('run summary', () => {
  it('names every anomaly: non-linearizable keys with their stuck ops, and each checker summary sentence', () => {
    const results: Results = {
      ...base,
      checkers: {
        linearizability: {
          checker: 'linearizability',
          valid: false,
          model: 'kv',
          partitioned: true,
          decideAll: false,
          operations: 10,
          elapsedMs: 1,
          partitions: [
            { key: 'e1', valid: true, operations: 4, elapsedMs: 0 },
            {
              key: 'e2',
              valid: false,
              operations: 6,
              elapsedMs: 0,
              evidence: {
                linearized: 3,
                stateAfter: '{"e2": 7}',
                stuck: [{ index: 12, process: 3, description: 'e2: read → null' }],
                longestPrefixes: 1,
              },
            },
            { key: 'e3', valid: 'unknown', reason: 'timeout', operations: 6, elapsedMs: 0 },
          ],
        },
        'set-full': {
          valid: false,
          summary: ['3 acknowledged adds lost on key s7: 1042, 1077 and 1090'],
        },
        convergence: { valid: true, summary: [] },
        stats: { valid: true },
      },
    };
    expect(anomalySentences(results)).toEqual([
      'key e2 is not linearizable: after 3 of its 6 operations (state {"e2": 7}), none of these can come next: e2: read → null (see timeline.html)',
      'linearizability of key e3 is unknown (timeout)',
      'set-full: 3 acknowledged adds lost on key s7: 1042, 1077 and 1090',
    ]);
  });

  it('nothing to say for a valid run; a checker without a summary still gets a sentence when invalid', () => {
    expect(
      anomalySentences({ ...base, valid: true, checkers: { stats: { valid: true } } }),
    ).toEqual([]);
    expect(anomalySentences({ ...base, checkers: { custom: { valid: false } } })).toEqual([
      'custom: anomaly found (results.json has the evidence)',
    ]);
  });

  it('availability in and out of faults, from the stats checker', () => {
    const line = availabilityLine({
      ...base,
      checkers: {
        stats: {
          valid: true,
          availability: {
            duringFaults: { ops: 200, ok: 90, answered: 100, fraction: 0.5 },
            outsideFaults: { ops: 0, ok: 0, answered: 0, fraction: null },
          },
        },
      },
    });
    expect(line).toBe(
      'availability: 50.0 % answered while faults were active (200 ops), no ops otherwise (0 ops)',
    );
    expect(availabilityLine({ ...base, checkers: {} })).toBeUndefined();
  });

  it('time to converge, from the convergence checker', () => {
    const line = (c: Record<string, unknown>) =>
      convergenceLine({ ...base, checkers: { convergence: { valid: true, ...c } } });
    expect(line({ rounds: 2, converged: true, timeToConvergeMs: 1156.4 })).toBe(
      'convergence: replicas agreed 1156 ms after the heal (2 rounds of final reads)',
    );
    expect(line({ rounds: 40, converged: false, timeToConvergeMs: null })).toBe(
      'convergence: replicas still disagreed after 40 rounds of final reads',
    );
    expect(line({ rounds: 0 })).toBeUndefined();
    expect(convergenceLine({ ...base, checkers: {} })).toBeUndefined();
  });

  describe('failover line, from the stats checker', () => {
    const fault = (f: Partial<FaultFailover>): FaultFailover => ({
      kind: 'kill',
      label: 'kill-start',
      start: 4.1,
      end: 9,
      recoveredAfterStartMs: 1300,
      recoveredAfterHealMs: 200,
      ...f,
    });
    const line = (failover: FaultFailover[]) =>
      failoverLine({ ...base, checkers: { stats: { valid: true, failover } } });

    it('one fault: its two times, or why there is none', () => {
      expect(line([fault({ nodes: ['n2'] })])).toBe(
        'failover: after a kill of n2 at 4.1 s, ok again after 1.3 s; after its heal, 0.2 s',
      );
      expect(
        line([
          fault({
            kind: 'partition',
            start: 1,
            recoveredAfterStartMs: null,
            recoveredAfterHealMs: 40,
            noRecovery: { afterStart: 'healed-first' },
          }),
        ]),
      ).toBe(
        'failover: after a partition at 1.0 s, no ok op until it healed; after its heal, 40 ms',
      );
      expect(
        line([
          fault({
            end: null,
            recoveredAfterStartMs: null,
            recoveredAfterHealMs: null,
            noRecovery: { afterStart: 'run-ended', afterHeal: 'never-healed' },
          }),
        ]),
      ).toBe('failover: after a kill at 4.1 s, no ok op until the run ended; it never healed');
    });

    it('many faults: the median and the worst of each side, and the faults with none', () => {
      expect(
        line([
          fault({ start: 2, recoveredAfterStartMs: 1000, recoveredAfterHealMs: 100 }),
          fault({
            start: 12,
            nodes: ['n3'],
            recoveredAfterStartMs: 3000,
            recoveredAfterHealMs: 300,
          }),
          fault({ start: 22, recoveredAfterStartMs: 2000, recoveredAfterHealMs: null }),
          fault({ start: 32, recoveredAfterStartMs: null, recoveredAfterHealMs: 500 }),
          fault({ start: 42, recoveredAfterStartMs: 1600, recoveredAfterHealMs: 700 }),
        ]),
      ).toBe(
        'failover over 5 faults: ok again after the start: median 1.8 s, worst 3.0 s (a kill of n3 at 12.0 s), 1 with no ok op until healed; ' +
          'after the heal: median 0.4 s, worst 0.7 s (a kill at 42.0 s), 1 with no ok op before the run ended',
      );
      expect(line([])).toBeUndefined();
      expect(failoverLine({ ...base, checkers: {} })).toBeUndefined();
    });
  });
});
