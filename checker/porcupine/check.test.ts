import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Slot } from '../testing/histories.js';
import { assignProcesses, processChoice } from '../testing/histories.js';
import type { KeyedInput } from '../testing/keyed-register.js';
import { keyedRegister, keyedRegisterSource } from '../testing/keyed-register.js';
import { bruteForceLinearizable, isLinearizablePrefix } from '../testing/oracle.js';
import { checkPartition, partitionOperations, probeForIllegal } from './check.js';
import {
  checkOperations,
  completeModel,
  fromNondeterministic,
  NOTHING_TO_CHECK,
  UNKNOWN,
} from './index.js';
import { checkOperationsParallel, maxConcurrency } from './parallel.js';
import type { Operation } from './types.js';

type Input = KeyedInput;
const register = keyedRegister;
const source = keyedRegisterSource;

function op(
  key: string,
  f: 'read' | 'write',
  value: number,
  call: number,
  ret: number,
  output?: number,
  clientId = 0,
): Operation<Input, number> {
  return {
    clientId,
    input: { key, f, value },
    call,
    return: ret,
    output: output ?? (f === 'read' ? value : 0),
  };
}

/** n writers of distinct values, all concurrent, and a read that sees none of them: hard to refute. */
function hardHistory(n: number, key = 'k'): Operation<Input, number>[] {
  const ops = Array.from({ length: n }, (_, i) => op(key, 'write', i + 1, 0, 100));
  ops.push(op(key, 'read', 99, 0, 100));
  return ops;
}

describe('checkOperations', () => {
  it("treats a call at the instant of another client's return as concurrent", () => {
    const ops = [op('k', 'write', 1, 0, 5, undefined, 1), op('k', 'read', 0, 5, 6, undefined, 2)];
    expect(checkOperations(register, ops).valid).toBe(true);
    const later = [op('k', 'write', 1, 0, 5, undefined, 1), op('k', 'read', 0, 6, 7, undefined, 2)];
    expect(checkOperations(register, later).valid).toBe(false);
  });

  it("keeps a client's own order when its next call is at the instant of its return", () => {
    // One client wrote 1, then read 0: the read came after the write, whatever the clock says.
    const ops = [op('k', 'write', 1, 0, 5, undefined, 1), op('k', 'read', 0, 5, 6, undefined, 1)];
    expect(checkOperations(register, ops).valid).toBe(false);
    expect(checkOperations(register, ops, { partition: false }).valid).toBe(false);
    // Zero-length ops of one client, all at one instant, still in the client's order.
    const instant = [
      op('k', 'write', 1, 5, 5, undefined, 1),
      op('k', 'write', 2, 5, 5, undefined, 1),
      op('k', 'read', 2, 5, 7, undefined, 1),
    ];
    expect(checkOperations(register, instant).valid).toBe(true);
    const stale = [...instant.slice(0, 2), op('k', 'read', 1, 5, 7, undefined, 1)];
    expect(checkOperations(register, stale).valid).toBe(false);
  });

  it("searches keys tied by a client's order together, and says which", () => {
    // Store buffering: client 1 writes a then reads b, client 2 writes b then reads a, each
    // read invoked at the instant the client's write returned. Each key alone is linearizable
    // (its read may go first); together they are not: each read comes after its client's
    // write, and one of the writes comes first.
    const ops = [
      op('a', 'write', 1, 0, 5, undefined, 1),
      op('b', 'write', 1, 0, 5, undefined, 2),
      op('b', 'read', 0, 5, 9, undefined, 1),
      op('a', 'read', 0, 5, 9, undefined, 2),
    ];
    const r = checkOperations(register, ops, { verbose: true });
    expect(r.valid).toBe(false);
    expect(r.partitions.map((p) => [p.key, p.keys, p.operations])).toEqual([['a', ['a', 'b'], 4]]);
    expect(bruteForceLinearizable(register, ops)).toBe(false);
    // The same reads by two other clients: nothing ties the keys, and the reads may go first.
    const apart = ops.map((o, i) => (o.input.f === 'read' ? { ...o, clientId: 3 + i } : o));
    const ok = checkOperations(register, apart);
    expect(ok.valid).toBe(true);
    expect(ok.partitions.map((p) => [p.key, p.keys])).toEqual([
      ['a', undefined],
      ['b', undefined],
    ]);
  });

  it('gives unknown, saying why, when no operation completed', () => {
    for (const ops of [
      [],
      [{ ...op('k', 'write', 1, 0, 1), return: Number.POSITIVE_INFINITY, output: UNKNOWN }],
      [{ ...op('k', 'read', 1, 0, 1), return: Number.POSITIVE_INFINITY, output: UNKNOWN }],
    ] as Operation<Input, number>[][]) {
      const r = checkOperations(register, ops);
      expect(r.valid).toBe('unknown');
      expect(r.reason).toBe(NOTHING_TO_CHECK);
      expect(r.partitions).toEqual([]);
    }
    // A key with nothing completed, beside one with something, is just linearizable.
    const mixed: Operation<Input, number>[] = [
      { ...op('a', 'write', 1, 0, 1), return: Number.POSITIVE_INFINITY, output: UNKNOWN },
      op('b', 'write', 1, 0, 1),
    ];
    const r = checkOperations(register, mixed);
    expect(r.valid).toBe(true);
    expect(r.reason).toBeUndefined();
    expect(r.partitions.map((p) => [p.key, p.valid])).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });

  it('lets an indeterminate operation take effect late, or never', () => {
    const info: Operation<Input, number> = {
      ...op('k', 'write', 1, 0, 1),
      return: Number.POSITIVE_INFINITY,
      output: UNKNOWN,
    };
    expect(
      checkOperations(register, [info, op('k', 'read', 0, 2, 3), op('k', 'read', 1, 4, 5)]).valid,
    ).toBe(true);
    expect(checkOperations(register, [info, op('k', 'read', 0, 2, 3)]).valid).toBe(true);
    expect(
      checkOperations(register, [info, op('k', 'read', 1, 2, 3), op('k', 'read', 0, 4, 5)]).valid,
    ).toBe(false);
  });

  it('gives unknown with reason timeout when the time budget runs out', () => {
    const r = checkOperations(register, hardHistory(22), { timeoutMs: 50 });
    expect(r.valid).toBe('unknown');
    expect(r.partitions[0]!.reason).toBe('timeout');
  });

  it('gives unknown with reason memory when the cache bound is reached', () => {
    const r = checkOperations(register, hardHistory(22), { maxCacheEntries: 1000 });
    expect(r.valid).toBe('unknown');
    expect(r.partitions[0]!.reason).toBe('memory');
  });

  it('gives unknown with reason cancelled on an aborted signal', () => {
    const r = checkOperations(register, hardHistory(5), { signal: AbortSignal.abort() });
    expect(r.valid).toBe('unknown');
    expect(r.partitions[0]!.reason).toBe('cancelled');
  });

  it('stops at the first illegal partition unless deciding all', () => {
    const ops = [
      op('a', 'read', 1, 0, 1), // illegal: nothing wrote 1
      op('b', 'write', 2, 0, 1),
      op('b', 'read', 2, 2, 3),
      op('c', 'read', 3, 0, 1), // illegal
    ];
    const first = checkOperations(register, ops);
    expect(first.valid).toBe(false);
    expect(first.partitions.map((p) => p.key)).toEqual(['a']);
    const all = checkOperations(register, ops, { decideAll: true });
    expect(all.partitions.map((p) => [p.key, p.valid])).toEqual([
      ['a', false],
      ['b', true],
      ['c', false],
    ]);
  });

  it('searches the history as one with partition: false', () => {
    // Per key this is legal; as one register it is not (the read of a sees b's write).
    const ops = [op('a', 'write', 1, 0, 1), op('b', 'write', 2, 2, 3), op('a', 'read', 1, 4, 5)];
    expect(checkOperations(register, ops).valid).toBe(true);
    expect(checkOperations(register, ops).partitions).toHaveLength(2);
    const whole = checkOperations(register, ops, { partition: false });
    expect(whole.valid).toBe(false);
    expect(whole.partitions.map((p) => p.key)).toEqual(['']);
  });

  it('drops indeterminate read-only operations', () => {
    const ops = [
      op('k', 'write', 1, 0, 1),
      { ...op('k', 'read', 7, 2, 3), return: Number.POSITIVE_INFINITY },
    ];
    const r = checkOperations(register, ops);
    expect(r.valid).toBe(true);
    expect(r.partitions[0]!.operations).toBe(1);
  });
});

/** Tiny histories on one key; clients run ops in turn, some called at their last return. */
const smallOps = fc
  .array(
    fc.record({
      f: fc.constantFrom<'read' | 'write'>('read', 'write'),
      value: fc.integer({ min: 0, max: 2 }),
      call: fc.integer({ min: 0, max: 10 }),
      len: fc.integer({ min: 0, max: 5 }),
      open: fc.integer({ min: 0, max: 5 }),
      client: processChoice,
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((xs) => {
    const slots: Slot[] = xs.map((x) => ({
      call: x.call,
      ret: x.open === 0 ? Number.POSITIVE_INFINITY : x.call + x.len,
      goesOn: x.open !== 0,
      latestCall: Number.POSITIVE_INFINITY,
      shift: true,
    }));
    const { process } = assignProcesses(
      slots,
      xs.map((x) => x.client),
    );
    return xs.map(
      (x, i): Operation<Input, number> => ({
        clientId: process[i]!,
        input: { key: 'k', f: x.f, value: x.value },
        call: slots[i]!.call,
        return: slots[i]!.ret,
        output: x.open === 0 ? UNKNOWN : x.f === 'read' ? x.value : 0,
      }),
    );
  });

describe('verbose evidence', () => {
  it('longest prefixes are linearizable, of one length, distinct; stuck operations cannot be placed', () => {
    let invalid = 0;
    fc.assert(
      fc.property(smallOps, (ops) => {
        const r = checkOperations(register, ops, { verbose: true });
        if (ops.every((o) => o.return === Number.POSITIVE_INFINITY)) {
          expect(r.valid).toBe('unknown');
          return;
        }
        expect(r.valid).toBe(bruteForceLinearizable(register, ops));
        const p = r.partitions[0]!;
        const info = p.info!;
        expect(info.longest.length).toBeGreaterThan(0);
        const orders = info.longest.map((steps) => steps.map((s) => s.op));
        const lengths = new Set(orders.map((o) => o.length));
        expect(lengths.size).toBe(1);
        expect(new Set(orders.map((o) => o.join(','))).size).toBe(orders.length);
        const complete = completeModel(register);
        for (const [k, order] of orders.entries()) {
          expect(isLinearizablePrefix(register, info.operations, order)).toBe(true);
          // The states shown are the model's states along the way.
          let s = register.init();
          for (const [j, i] of order.entries()) {
            s = register.step(s, info.operations[i]!.input, info.operations[i]!.output)!;
            expect(info.longest[k]![j]!.state).toBe(complete.describeState(s));
          }
        }
        if (r.valid === false) {
          invalid++;
          // No prefix is longer: extending the first by any stuck operation is not a legal run.
          expect(info.stuck.length).toBeGreaterThan(0);
          for (const i of info.stuck) {
            expect(isLinearizablePrefix(register, info.operations, [...orders[0]!, i])).toBe(false);
          }
        } else {
          // A valid partition's evidence is a whole linearization of its finite operations.
          const placed = new Set(orders[0]);
          info.operations.forEach((o, i) => {
            if (o.return !== Number.POSITIVE_INFINITY) expect(placed.has(i)).toBe(true);
          });
        }
      }),
      { numRuns: 1500 },
    );
    expect(invalid).toBeGreaterThan(100);
  });
});

describe('fromNondeterministic', () => {
  // A register whose write may silently be lost.
  const lossy = fromNondeterministic<number, Input, number>({
    init: () => [0],
    step: (s, i, o) => (i.f === 'write' ? [s, i.value] : o === UNKNOWN || o === s ? [s] : []),
  });
  it('accepts a read of either outcome, and not of a value never written', () => {
    expect(
      checkOperations(lossy, [op('k', 'write', 1, 0, 1), op('k', 'read', 0, 2, 3)]).valid,
    ).toBe(true);
    expect(
      checkOperations(lossy, [op('k', 'write', 1, 0, 1), op('k', 'read', 1, 2, 3)]).valid,
    ).toBe(true);
    expect(
      checkOperations(lossy, [op('k', 'write', 1, 0, 1), op('k', 'read', 2, 2, 3)]).valid,
    ).toBe(false);
  });
  it('dedupes equal states so that set equality is order-free', () => {
    const m = completeModel(lossy);
    const a = m.step(
      m.step(m.init(), { key: 'k', f: 'write', value: 1 }, 0)!,
      { key: 'k', f: 'write', value: 2 },
      0,
    )!;
    expect(a).toHaveLength(3);
    expect(m.equal(a, [2, 1, 0])).toBe(true);
    expect(m.hash(a)).toBe(m.hash([2, 1, 0]));
  });
});

describe('checkOperationsParallel', () => {
  it('gives the same verdicts on worker threads as on one thread', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const histories = fc.sample(
      fc
        .tuple(...keys.map(() => smallOps))
        .map((parts) =>
          parts.flatMap((ops, k) =>
            ops.map((o) => ({ ...o, input: { ...o.input, key: keys[k]! } })),
          ),
        ),
      { numRuns: 3, seed: 42 },
    );
    let invalid = 0;
    for (const ops of histories) {
      const one = checkOperations(register, ops, { decideAll: true });
      // With a signal the calling thread leaves every partition to the workers.
      const signal = new AbortController().signal;
      const many = await checkOperationsParallel(source, ops, {
        workers: 2,
        decideAll: true,
        signal,
      });
      expect(many.valid).toBe(one.valid);
      expect(many.partitions.map((p) => [p.key, p.valid])).toEqual(
        one.partitions.map((p) => [p.key, p.valid]),
      );
      if (one.valid === false) invalid++;
    }
    expect(invalid).toBeGreaterThan(0);
  });

  it('searches keys tied by a client on a worker as one partition, naming its keys', async () => {
    const ops = [
      op('a', 'write', 1, 0, 5, undefined, 1),
      op('b', 'write', 1, 0, 5, undefined, 2),
      op('b', 'read', 0, 5, 9, undefined, 1),
      op('a', 'read', 0, 5, 9, undefined, 2),
      op('c', 'write', 1, 0, 5, undefined, 3),
    ];
    const signal = new AbortController().signal;
    const r = await checkOperationsParallel(source, ops, { workers: 1, decideAll: true, signal });
    expect(r.valid).toBe(false);
    expect(r.partitions.map((p) => [p.key, p.keys, p.valid])).toEqual([
      ['a', ['a', 'b'], false],
      ['c', undefined, true],
    ]);
    const empty = await checkOperationsParallel(source, [], { workers: 1, signal });
    expect([empty.valid, empty.reason, empty.partitions]).toEqual([
      'unknown',
      NOTHING_TO_CHECK,
      [],
    ]);
  });

  it('cancels the other partitions after the first illegal one, and carries timeouts', async () => {
    const ops = [...hardHistory(40, 'slow'), op('bad', 'read', 5, 0, 1)];
    const r = await checkOperationsParallel(source, ops, { workers: 2 });
    expect(r.valid).toBe(false);
    expect(r.partitions.map((p) => p.key)).toEqual(['bad']);
    const t = await checkOperationsParallel(
      source,
      hardHistory(40, 'slow').concat(hardHistory(40, 'slow2')),
      {
        workers: 2,
        timeoutMs: 200,
        decideAll: true,
      },
    );
    expect(t.valid).toBe('unknown');
    expect(t.partitions.map((p) => p.reason)).toEqual(['timeout', 'timeout']);
  });

  it('stops on an abort signal with verdict unknown, reason cancelled', async () => {
    const controller = new AbortController();
    const pending = checkOperationsParallel(
      source,
      hardHistory(40, 'x').concat(hardHistory(40, 'y')),
      {
        workers: 2,
        decideAll: true,
        signal: controller.signal,
      },
    );
    setTimeout(() => controller.abort(), 300);
    const r = await pending;
    expect(r.valid).toBe('unknown');
    expect(r.partitions.map((p) => p.reason)).toEqual(['cancelled', 'cancelled']);
  });
});

describe('maxConcurrency', () => {
  it('counts operations in flight at one instant, intervals closed, indeterminate ones left out', () => {
    expect(maxConcurrency([op('k', 'write', 1, 0, 5), op('k', 'write', 2, 5, 6)])).toBe(2);
    expect(maxConcurrency([op('k', 'write', 1, 0, 5), op('k', 'write', 2, 6, 7)])).toBe(1);
    const open = { ...op('k', 'write', 3, 0, 1), return: Number.POSITIVE_INFINITY };
    expect(maxConcurrency([open, op('k', 'write', 1, 2, 3), op('k', 'write', 2, 4, 5)])).toBe(1);
  });
});

describe('probeForIllegal', () => {
  /** A read of a value no one wrote, before 99 concurrent writes: illegal at the first step. */
  const plainlyIllegal = (key: string) => [
    op(key, 'read', 7, 0, 1),
    ...Array.from({ length: 99 }, (_, i) => op(key, 'write', i + 1, 2, 100, undefined, i + 1)),
  ];
  const model = completeModel(register);
  const budget = { deadline: Number.POSITIVE_INFINITY, maxCacheEntries: 1_000_000, verbose: true };

  it('finds the plainly illegal partition behind one that is slow to refute, checked in full', () => {
    const parts = partitionOperations(
      model,
      [...hardHistory(120, 'a'), ...plainlyIllegal('b')],
      true,
    );
    expect(parts.map((p) => p.key)).toEqual(['a', 'b']);
    const found = probeForIllegal(model, parts, budget);
    expect(found.illegal?.key).toBe('b');
    const full = checkPartition(model, parts[1]!, budget);
    expect({ ...found.illegal, elapsedMs: 0 }).toEqual({ ...full, elapsedMs: 0 });
  });

  it('finds nothing in a history whose partitions are legal', () => {
    const legal = (key: string) => [op(key, 'write', 1, 0, 1), op(key, 'read', 1, 2, 3)];
    const parts = partitionOperations(model, [...legal('a'), ...legal('b')], true);
    const probe = probeForIllegal(model, parts, budget);
    expect(probe.illegal).toBeUndefined();
    // Both checked in full by the probe: nothing is left to check again.
    expect([...probe.legal.keys()]).toEqual([0, 1]);
    expect({ ...probe.legal.get(0), elapsedMs: 0 }).toEqual({
      ...checkPartition(model, parts[0]!, budget),
      elapsedMs: 0,
    });
  });

  it('spares the parallel check the long search: the illegal partition alone is reported', async () => {
    const r = await checkOperationsParallel(
      source,
      [...hardHistory(120, 'a'), ...plainlyIllegal('b')],
      { verbose: true, timeoutMs: 60_000 },
    );
    expect(r.valid).toBe(false);
    expect(r.partitions.map((p) => [p.key, p.valid])).toEqual([['b', false]]);
  });
});
