import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientOp } from './history/client-op.js';
import { checkLinearizability } from './linearizability.js';
import { getHistoryModel } from './models/index.js';
import type { HistoryKind } from './testing/histories.js';
import {
  appendKvKind,
  kvKind,
  mutexKind,
  queueKind,
  randomHistory,
  registerKind,
  sequentialHistory,
  setKind,
  tiedKeysHistory,
  twoKeyKvKind,
} from './testing/histories.js';
import { generateKvHistory } from './testing/kv-history.js';
import { historyOracle, isLinearizablePrefix } from './testing/oracle.js';

/** Whether a process invokes an op at the very time its previous op completed ok. */
function hasProcessTie(ops: readonly ClientOp[]): boolean {
  return ops.some((b, j) =>
    ops.some(
      (a, i) => i < j && a.process === b.process && a.status === 'ok' && a.return === b.call,
    ),
  );
}

async function compare(
  kind: HistoryKind,
  runs: number,
  gens = [sequentialHistory(kind), randomHistory(kind)],
): Promise<void> {
  const verdicts = { true: 0, false: 0 };
  let ties = 0;
  for (const gen of gens) {
    await fc.assert(
      fc.asyncProperty(gen, async (ops) => {
        // With no ok op there is nothing to judge: unknown, whatever the oracle would say.
        const judged = ops.some((o) => o.status === 'ok');
        const verdict = historyOracle(kind, ops);
        const expected = judged ? verdict : 'unknown';
        const got = await checkLinearizability(ops, { model: kind.name, workers: 0 });
        if (judged) verdicts[String(verdict) as 'true' | 'false']++;
        if (hasProcessTie(ops)) ties++;
        expect(got.valid).toBe(expected);
        // Searching the history whole must agree with searching it per key.
        const whole = await checkLinearizability(ops, {
          model: kind.name,
          workers: 0,
          partition: false,
        });
        expect(whole.valid).toBe(expected);
      }),
      { numRuns: runs },
    );
  }
  // Both verdicts must be well represented, or the comparison proves little; and so must
  // processes that invoke at the instant their previous op completed.
  expect(verdicts.true).toBeGreaterThan(runs * 0.1);
  expect(verdicts.false).toBeGreaterThan(runs * 0.1);
  expect(ties).toBeGreaterThan(runs * 0.1);
}

describe('checkLinearizability agrees with a brute-force oracle on tiny histories', () => {
  it('register', async () => compare(registerKind(false), 1500));
  it('cas-register', async () => compare(registerKind(true), 1500));
  it('set', async () => compare(setKind, 1500));
  it('kv', async () => compare(kvKind, 1000));
  it('append-kv', async () => compare(appendKvKind, 3000));
  it('fifo-queue', async () => compare(queueKind, 300));
  it('mutex', async () => compare(mutexKind, 300));
  // Few ops in a short span: processes often tie the two keys by their own order.
  it('kv on two keys, tied by processes', async () =>
    compare(twoKeyKvKind, 1500, [
      sequentialHistory(twoKeyKvKind, 6),
      randomHistory(twoKeyKvKind, 6, { call: 3, length: 2 }),
      tiedKeysHistory(),
    ]));
});

describe('verbose evidence at the history level', () => {
  it('maps operations back to the input array and replays the longest prefixes', async () => {
    let invalid = 0;
    const kinds = [registerKind(true), appendKvKind, setKind];
    for (const kind of kinds) {
      await fc.assert(
        fc.asyncProperty(randomHistory(kind), async (ops) => {
          const r = await checkLinearizability(ops, {
            model: kind.name,
            workers: 0,
            verbose: true,
            decideAll: true,
          });
          const hm = getHistoryModel(kind.name);
          for (const p of r.partitions) {
            const info = p.info!;
            // Each operation is the one at its id in the input, as the model sees it.
            for (const o of info.operations) {
              const source = ops[o.id!]!;
              expect(source.status).not.toBe('fail');
              expect(o.input).toEqual(hm.toOperation(source).input);
              expect(o.call).toBe(source.call);
            }
            for (const steps of info.longest) {
              const order = steps.map((s) => s.op);
              expect(isLinearizablePrefix(hm.model, info.operations, order)).toBe(true);
            }
            if (p.valid === false) {
              invalid++;
              expect(info.stuck.length).toBeGreaterThan(0);
              const prefix = info.longest[0]!.map((s) => s.op);
              // Stuck operations are real-time candidates after the prefix; the model rejects
              // them, unless it rejects none of them (then every one of them leads nowhere).
              const rejected = info.stuck.filter(
                (i) => !isLinearizablePrefix(hm.model, info.operations, [...prefix, i]),
              );
              expect(rejected.length === info.stuck.length || rejected.length === 0).toBe(true);
            }
          }
        }),
        { numRuns: 300 },
      );
    }
    expect(invalid).toBeGreaterThan(100);
  });
});

describe('generated kv histories', () => {
  it('a linearizable store gives valid, on one thread and on workers; one bad read makes it invalid', async () => {
    const ops = generateKvHistory({ ops: 6_000, keys: 12, clients: 10, infoRate: 0.05, seed: 3 });
    expect(ops.some((o) => o.status === 'info')).toBe(true);
    expect(ops.some((o) => o.status === 'fail')).toBe(true);
    const one = await checkLinearizability(ops, { model: 'kv', workers: 0 });
    expect(one.valid).toBe(true);
    expect(one.partitions).toHaveLength(12);
    // With a signal the calling thread leaves every partition to the workers.
    const signal = new AbortController().signal;
    const many = await checkLinearizability(ops, { model: 'kv', workers: 2, signal });
    expect(many.valid).toBe(true);
    // A read of a value no operation ever wrote cannot be linearized.
    const read = ops.find((o) => o.f === 'read' && o.status === 'ok')!;
    const bad = ops.map((o) =>
      o === read ? { ...o, completion: { ...o.completion!, value: 99 } } : o,
    );
    const r = await checkLinearizability(bad, { model: 'kv', workers: 2, verbose: true, signal });
    expect(r.valid).toBe(false);
    const failing = r.partitions.find((p) => p.valid === false)!;
    expect(failing.key).toBe(read.key);
    const stuckIds = failing.info!.stuck.map((i) => failing.info!.operations[i]!.id);
    expect(stuckIds).toContain(bad.indexOf(bad.find((o) => o.completion?.value === 99)!));
  });
});
