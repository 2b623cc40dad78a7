/**
 * Random tiny histories for property tests, as client operations: either from a real
 * sequential execution with random overlapping intervals around each operation's instant
 * (mostly linearizable), or with random outputs (mostly not). Both include fail, info and
 * pending (never completed) operations, and equal times (closed intervals).
 */
import fc from 'fast-check';
import type { ClientOp, ClientOpStatus } from '../history/client-op.js';
import type { HistoryEvent } from '../history/event.js';

/** An operation before it gets times: what was invoked and what a completion would carry. */
export interface OpSpec {
  f: string;
  key?: string;
  /** The invoke's value. */
  value: unknown;
  /** The completion's value (the value read for a read). */
  result: unknown;
}

/** A sequential reference implementation: runs an operation and says what it returned (undefined: it cannot run). */
export type Executor = () => { run(op: { f: string; key?: string; value: unknown }): unknown };

export interface HistoryKind {
  name: string;
  /** Random invocations (f, key, value). */
  invocation: fc.Arbitrary<{ f: string; key?: string; value: unknown }>;
  /** A random completion value for an invocation (for fully random histories). */
  randomResult: (f: string) => fc.Arbitrary<unknown>;
  executor: Executor;
}

const small = fc.integer({ min: 0, max: 2 });

function withKey(key: string | undefined): { key?: string } {
  return key === undefined ? {} : { key };
}

export const registerKind = (cas: boolean): HistoryKind => ({
  name: cas ? 'cas-register' : 'register',
  invocation: fc.oneof(
    fc.constant({ f: 'read', value: null }),
    small.map((v) => ({ f: 'write', value: v })),
    ...(cas ? [fc.tuple(small, small).map(([a, b]) => ({ f: 'cas', value: [a, b] }))] : []),
  ),
  randomResult: (f) => (f === 'read' ? fc.option(small, { nil: null }) : fc.constant(undefined)),
  executor: () => {
    let v: unknown = null;
    return {
      run(op) {
        if (op.f === 'read') return v;
        if (op.f === 'write') {
          v = op.value;
          return op.value;
        }
        const [from, to] = op.value as [unknown, unknown];
        if (v !== from) return undefined;
        v = to;
        return op.value;
      },
    };
  },
});

export const kvKind: HistoryKind = {
  name: 'kv',
  invocation: fc
    .tuple(fc.constantFrom('a', 'b'), registerKind(true).invocation)
    .map(([key, op]) => ({ ...op, key })),
  randomResult: (f) => (f === 'read' ? fc.option(small, { nil: null }) : fc.constant(undefined)),
  executor: () => {
    const regs = new Map<string, ReturnType<Executor>>();
    return {
      run(op) {
        let r = regs.get(op.key!);
        if (r === undefined) {
          r = registerKind(true).executor();
          regs.set(op.key!, r);
        }
        return r.run(op);
      },
    };
  },
};

export const appendKvKind: HistoryKind = {
  name: 'append-kv',
  invocation: fc
    .tuple(
      fc.constantFrom('a', 'b'),
      fc.constantFrom('get', 'put', 'append', 'append'),
      fc.constantFrom('x', 'y', 'xy', ''),
    )
    .map(([key, f, value]) => ({ f, key, value: f === 'get' ? null : value })),
  randomResult: (f) =>
    f === 'get' ? fc.constantFrom('', 'x', 'y', 'xy', 'yx', 'xx') : fc.constant(undefined),
  executor: () => {
    const m = new Map<string, string>();
    return {
      run(op) {
        const cur = m.get(op.key!) ?? '';
        if (op.f === 'get') return cur;
        m.set(op.key!, op.f === 'put' ? (op.value as string) : cur + (op.value as string));
        return op.value;
      },
    };
  },
};

export const setKind: HistoryKind = {
  name: 'set',
  invocation: fc.oneof(
    fc.constant({ f: 'read', value: null }),
    small.map((v) => ({ f: 'add', value: v })),
  ),
  randomResult: (f) =>
    f === 'read'
      ? fc.uniqueArray(small, { maxLength: 3 }).map((a) => [...a].sort())
      : fc.constant(undefined),
  executor: () => {
    const s = new Set<number>();
    return {
      run(op) {
        if (op.f === 'read') return [...s].sort();
        s.add(op.value as number);
        return op.value;
      },
    };
  },
};

export const queueKind: HistoryKind = {
  name: 'fifo-queue',
  invocation: fc.oneof(
    fc.constant({ f: 'dequeue', value: null }),
    small.map((v) => ({ f: 'enqueue', value: v })),
  ),
  randomResult: (f) => (f === 'dequeue' ? fc.option(small, { nil: null }) : fc.constant(undefined)),
  executor: () => {
    const q: unknown[] = [];
    return {
      run(op) {
        if (op.f === 'dequeue') return q.length === 0 ? null : q.shift();
        q.push(op.value);
        return op.value;
      },
    };
  },
};

export const mutexKind: HistoryKind = {
  name: 'mutex',
  invocation: fc.constantFrom({ f: 'acquire', value: null }, { f: 'release', value: null }),
  randomResult: () => fc.constant(undefined),
  executor: () => {
    let held = false;
    return {
      run(op) {
        if (op.f === 'acquire') {
          if (held) return undefined;
          held = true;
          return null;
        }
        if (!held) return undefined;
        held = false;
        return null;
      },
    };
  },
};

interface Timing {
  /** Slack before the operation's instant. */
  before: number;
  after: number;
  /** ok, or what becomes of it: info, pending, fail. */
  fate: 'ok' | 'info' | 'pending' | 'fail';
}

const timing = fc.record({
  before: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 16 })),
  after: fc.integer({ min: 0, max: 6 }),
  fate: fc.constantFrom<Timing['fate']>('ok', 'ok', 'ok', 'ok', 'ok', 'info', 'pending', 'fail'),
});

function build(
  specs: readonly { op: OpSpec; call: number; ret: number; status: ClientOpStatus }[],
): ClientOp[] {
  let index = 0;
  return specs.map((s, i) => {
    const invoke: HistoryEvent = {
      index: index++,
      time: s.call,
      process: i,
      type: 'invoke',
      f: s.op.f,
      ...withKey(s.op.key),
      value: s.op.value,
    };
    const op: ClientOp = {
      process: i,
      f: s.op.f,
      ...withKey(s.op.key),
      status: s.status,
      invoke,
      call: s.call,
      return: s.status === 'ok' || s.status === 'fail' ? s.ret : Number.POSITIVE_INFINITY,
    };
    if (s.status !== 'pending') {
      op.completion = {
        index: index++,
        time: s.ret,
        process: i,
        type: s.status,
        f: s.op.f,
        ...withKey(s.op.key),
        value: s.op.result,
      };
    }
    return op;
  });
}

/**
 * Histories from a real sequential execution: operation i takes effect at instant 2i (when it
 * can run at all; otherwise it failed), its interval is widened at random around it, and some
 * become info, pending or fail (a fail then certainly did not take effect: it is not run).
 * `corrupt` lets a few outputs be replaced at random so that invalid ones appear too.
 */
export function sequentialHistory(kind: HistoryKind, maxOps = 8): fc.Arbitrary<ClientOp[]> {
  return fc
    .array(fc.tuple(kind.invocation, timing, fc.boolean()), { minLength: 1, maxLength: maxOps })
    .chain((items) =>
      fc.tuple(
        fc.constant(items),
        fc.tuple(...items.map(([inv]) => kind.randomResult(inv.f))),
        fc.integer({ min: 0, max: 9 }),
      ),
    )
    .map(([items, randoms, corruptOne]) => {
      const exec = kind.executor();
      const specs = items.map(([inv, t, keepRandom], i) => {
        const instant = 2 * i + 2;
        let status: ClientOpStatus = t.fate;
        let result: unknown;
        // An info or pending operation may also never have taken effect.
        const runs = status === 'ok' || ((status === 'info' || status === 'pending') && keepRandom);
        if (runs) {
          result = exec.run(inv);
          if (result === undefined) status = 'fail';
        }
        if (!runs) result = status === 'fail' || randoms[i] === undefined ? inv.value : randoms[i];
        // One output in ten histories is replaced by a random one.
        if (corruptOne === 0 && keepRandom && status === 'ok' && randoms[i] !== undefined)
          result = randoms[i];
        const op: OpSpec = { f: inv.f, ...withKey(inv.key), value: inv.value, result };
        return { op, call: Math.max(0, instant - t.before), ret: instant + t.after, status };
      });
      return build(specs);
    });
}

/** Histories with random intervals and random outputs. */
export function randomHistory(kind: HistoryKind, maxOps = 8): fc.Arbitrary<ClientOp[]> {
  return fc
    .array(
      fc.tuple(
        kind.invocation,
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 6 }),
        timing,
      ),
      { minLength: 1, maxLength: maxOps },
    )
    .chain((items) =>
      fc.tuple(fc.constant(items), fc.tuple(...items.map(([inv]) => kind.randomResult(inv.f)))),
    )
    .map(([items, results]) =>
      build(
        items.map(([inv, call, len, t], i) => ({
          op: { f: inv.f, ...withKey(inv.key), value: inv.value, result: results[i] ?? inv.value },
          call,
          ret: call + len,
          status: t.fate,
        })),
      ),
    );
}
