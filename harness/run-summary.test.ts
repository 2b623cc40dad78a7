import { describe, expect, it } from 'vitest';
import type { FaultFailover } from '../checker/failover.js';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import type { Results } from '../checker/results.js';
import {
  anomalySentences,
  availabilityLine,
  buildRunSummary,
  convergenceLine,
  failoverLine,
  junitRunError,
  junitXml,
  percentiles,
  runSummarySchema,
} from './run-summary.js';
import { parseSpec, resolveSpec } from './spec.js';

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

describe('summary.json and JUnit', () => {
  const spec = resolveSpec(
    parseSpec({
      name: 'reg-ci',
      nodes: 3,
      workload: { name: 'register', options: { keys: 2 } },
      nemesis: { faults: ['partition', 'kill'], interval: 2 },
      timeLimit: 10,
      settings: { 'sync-limit': 4 },
    }),
    () => 42,
  );
  const ev = (time: number, process: number | string, type: string, f: string, value?: unknown) =>
    ({
      index: 0,
      time,
      process,
      type,
      f,
      ...(value !== undefined ? { value } : {}),
    }) as HistoryEvent;
  const events = [
    ev(0, 0, 'invoke', 'write', 1),
    ev(1e9, 'nemesis', 'info', 'partition-start'),
    ev(2e6, 0, 'ok', 'write', 1),
    ev(3e9, 'nemesis', 'info', 'partition-stop'),
    ev(4e9, 'nemesis', 'info', 'kill'),
    ev(5e9, 'nemesis', 'info', 'start'),
    ev(9e9, 'nemesis', 'info', 'heal-all-start'),
    ev(10e9, 'nemesis', 'info', 'heal-all-stop'),
  ];
  const ops: ClientOp[] = [];
  for (let i = 0; i < 100; i++) {
    const call = i * 1e8;
    const ms = i + 1;
    const status = i % 10 === 9 ? 'fail' : 'ok';
    ops.push({
      process: i % 5,
      f: 'read',
      status,
      invoke: ev(call, i % 5, 'invoke', 'read'),
      completion: ev(call + ms * 1e6, i % 5, status, 'read'),
      call,
      return: call + ms * 1e6,
    });
  }
  const invalid: Results = {
    ...base,
    run: {
      status: 'complete',
      verdict: 'invalid',
      reasons: ['the linearizability checker found an anomaly'],
    },
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
          {
            key: 'r1',
            valid: false,
            operations: 6,
            elapsedMs: 0,
            evidence: {
              linearized: 3,
              stateAfter: '{"r1": 2}',
              stuck: [{ index: 12, process: 3, description: 'r1: read → <1> & "x"' }],
              longestPrefixes: 1,
            },
          },
        ],
      },
      stats: { valid: true },
    },
  };

  it('sums a run up: counts, percentiles, faults that happened, the command to reproduce it', () => {
    const s = buildRunSummary({
      spec,
      results: invalid,
      ops,
      events,
      startedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(runSummarySchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
    expect(s).toMatchObject({
      name: 'reg-ci',
      verdict: 'invalid',
      status: 'complete',
      seed: 42,
      faults: ['partition', 'kill'],
      faultsHappened: { partition: 1, kill: 1 },
      ops: { total: 100, ok: 90, fail: 10, info: 0, pending: 0 },
      durationS: 10,
      throughput: 9,
    });
    // ok latencies are 1..100 ms but for every tenth (fail): 90 values.
    expect(s.latencyMs.p50).toBe(49); // the 45th of 90: nearest rank
    expect(s.latencyMs.max).toBe(99);
    expect(s.checkers.map((c) => [c.name, c.valid, c.anomalies.length])).toEqual([
      ['linearizability', false, 1],
      ['stats', true, 0],
    ]);
    expect(s.reproduce).toBe(
      'faultline run --name reg-ci --system leaderless --backend local --nodes 3 --workload register --workload-opt keys=2 --nemesis partition,kill --nemesis-interval 2 --nemesis-targets one,minority --concurrency 10 --rate 200 --time-limit 10 --recovery 5 --op-timeout 5 --system-opt sync-limit=4 --min-ok-ops 10 --min-ok-ops-per-key 1 --seed 42',
    );
    expect(percentiles([])).toEqual({ p50: null, p90: null, p99: null, max: null });
  });

  it('JUnit: a test case per checker, the failure naming the anomaly, escaped', () => {
    const s = buildRunSummary({ spec, results: invalid, ops, events });
    const xml = junitXml(s, '/results/reg-ci/1');
    expect(xml).toContain('<testsuite name="faultline.reg-ci" tests="3" failures="1" errors="0"');
    expect(xml).toMatch(
      /<testcase classname="faultline.reg-ci" name="linearizability" time="0.001">\s*<failure type="anomaly" message="key r1 is not linearizable: after 3 of its 6 operations \(state \{&quot;r1&quot;: 2\}\), none of these can come next: r1: read → &lt;1&gt; &amp; &quot;x&quot;/,
    );
    expect(xml).toContain(
      '<testcase classname="faultline.reg-ci" name="stats" time="0.000"></testcase>',
    );
    expect(xml).toContain('reproduce: faultline run --name reg-ci');
    expect(xml).not.toMatch(/<1>/);

    const unknown: Results = {
      ...base,
      valid: 'unknown',
      run: {
        status: 'aborted',
        verdict: 'unknown',
        reasons: ['the run was stopped early <Ctrl-C>'],
      },
      checkers: {
        linearizability: {
          ...invalid.checkers.linearizability!,
          valid: 'unknown',
          partitions: [],
        } as unknown as NonNullable<Results['checkers']['linearizability']>,
        stats: { valid: true },
      },
    };
    const u = junitXml(buildRunSummary({ spec, results: unknown, ops, events }));
    expect(u).toContain('failures="0" errors="2"');
    expect(u).toContain(
      '<error type="aborted" message="the run was stopped early &lt;Ctrl-C&gt;">',
    );
    expect(junitRunError('x', 'the cluster did not come up\nn1: exit 1')).toContain(
      '<error type="error" message="the cluster did not come up">the cluster did not come up\nn1: exit 1</error>',
    );
  });
});
