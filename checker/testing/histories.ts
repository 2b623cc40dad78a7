/**
 * Random tiny histories for property tests, as client operations: either from a real
 * sequential execution with random overlapping intervals around each operation's instant
 * (mostly linearizable), or with random outputs (mostly not). Both include fail, info and
 * pending (never completed) operations, equal times (closed intervals), processes that run
 * several operations in turn (some invoked at the very time their previous one completed),
 * and values that tempt a checker to confuse types: strings that look like tagged or JSON
 * values, a number and its string, integers beyond 2^53, number and string keys.
 */
import fc from 'fast-check';
import type { ClientOp, ClientOpStatus } from '../history/client-op.js';
import type { HistoryEvent, Key } from '../history/event.js';
import { sameKey, sameValue } from './same-value.js';

/** An operation before it gets times: what was invoked and what a completion would carry. */
export interface OpSpec {
  f: string;
  key?: Key;
  /** The invoke's value. */
  value: unknown;
  /** The completion's value (the value read for a read). */
  result: unknown;
}

export interface Invocation {
  f: string;
  key?: Key;
  value: unknown;
}

/**
 * A sequential reference implementation, pure: `step` runs an operation in a state and gives
 * the next state and what the operation returned, or undefined when it cannot run there.
 */
export interface Executor {
  init: unknown;
  step(state: unknown, op: Invocation): { state: unknown; output: unknown } | undefined;
}

export interface HistoryKind {
  name: string;
  /** Random invocations (f, key, value). */
  invocation: fc.Arbitrary<Invocation>;
  /** A random completion value for an invocation (for fully random histories). */
  randomResult: (f: string) => fc.Arbitrary<unknown>;
  executor: Executor;
  /**
   * Whether an ok completion's value `observed` agrees with the reference's `output`, for the
   * operations whose completion value the model checks (true for the others).
   */
  agrees(f: string, output: unknown, observed: unknown): boolean;
}

const small = fc.integer({ min: 0, max: 2 });

/**
 * Values a checker could confuse: a string spelled like a tagged array, an array, its text,
 * the number 1 and its string, a string spelled like a tagged bigint, two integers a double
 * cannot tell apart (2^53 + 1 and 2^53), and the double 2^53 (equal to the second).
 */
const tricky = fc.constantFrom<unknown>(
  '\u0000json:[1]',
  [1],
  '[1]',
  '1',
  '\u0000int:9007199254740993',
  9007199254740993n,
  9007199254740992n,
  2 ** 53,
);
const value = fc.oneof({ weight: 3, arbitrary: small }, { weight: 2, arbitrary: tricky });
const readResult = fc.option(value, { nil: null });

function withKey(key: Key | undefined): { key?: Key } {
  return key === undefined ? {} : { key };
}

const readAgrees = (read: string) => (f: string, output: unknown, observed: unknown) =>
  f !== read || sameValue(output, observed);

export const registerKind = (cas: boolean): HistoryKind => ({
  name: cas ? 'cas-register' : 'register',
  invocation: fc.oneof(
    fc.constant({ f: 'read', value: null }),
    value.map((v) => ({ f: 'write', value: v })),
    ...(cas ? [fc.tuple(value, value).map(([a, b]) => ({ f: 'cas', value: [a, b] }))] : []),
  ),
  randomResult: (f) => (f === 'read' ? readResult : fc.constant(undefined)),
  executor: {
    init: null,
    step(v, op) {
      if (op.f === 'read') return { state: v, output: v };
      if (op.f === 'write') return { state: op.value, output: op.value };
      const [from, to] = op.value as [unknown, unknown];
      return sameValue(v, from) ? { state: to, output: op.value } : undefined;
    },
  },
  agrees: readAgrees('read'),
});

/**
 * Keys: "a", the number 1 and the string "1" (two keys), and 2^53 as a bigint and as a double
 * (one key).
 */
const kvKey = fc.constantFrom<Key>('a', 1, '1', 9007199254740992n, 2 ** 53);

/** A map from keys (compared with sameKey) to states, as an array of pairs. */
type KeyedStates = readonly (readonly [Key, unknown])[];

function keyed(inner: Executor): Executor {
  return {
    init: [] as KeyedStates,
    step(state, op) {
      const entries = state as KeyedStates;
      const at = entries.findIndex(([k]) => sameKey(k, op.key));
      const r = inner.step(at < 0 ? inner.init : entries[at]![1], op);
      if (r === undefined) return undefined;
      const next = entries.filter((_, i) => i !== at);
      next.push([op.key!, r.state]);
      return { state: next, output: r.output };
    },
  };
}

export const kvKind: HistoryKind = {
  name: 'kv',
  invocation: fc.tuple(kvKey, registerKind(true).invocation).map(([key, op]) => ({ ...op, key })),
  randomResult: (f) => (f === 'read' ? readResult : fc.constant(undefined)),
  executor: keyed(registerKind(true).executor),
  agrees: readAgrees('read'),
};

/**
 * kv on two keys with values 0 and 1, no cas: small enough that processes tying the keys by
 * their own order (a write on one key, then at the same instant a read on the other) and
 * reads that only some orders of those instants allow come up often.
 */
export const twoKeyKvKind: HistoryKind = {
  name: 'kv',
  invocation: fc
    .tuple(fc.constantFrom<Key>('a', 'b'), fc.boolean(), fc.constantFrom(0, 1))
    .map(([key, read, v]) =>
      read ? { f: 'read', key, value: null } : { f: 'write', key, value: v },
    ),
  randomResult: (f) => (f === 'read' ? fc.constantFrom(null, 0, 1) : fc.constant(undefined)),
  executor: keyed(registerKind(false).executor),
  agrees: readAgrees('read'),
};

export const appendKvKind: HistoryKind = {
  name: 'append-kv',
  invocation: fc
    .tuple(
      fc.constantFrom<Key>('a', 'b', 1, '1'),
      fc.constantFrom('get', 'put', 'append', 'append'),
      fc.constantFrom('x', 'y', 'xy', ''),
    )
    .map(([key, f, value]) => ({ f, key, value: f === 'get' ? null : value })),
  randomResult: (f) =>
    f === 'get' ? fc.constantFrom('', 'x', 'y', 'xy', 'yx', 'xx') : fc.constant(undefined),
  executor: keyed({
    init: '',
    step(cur, op) {
      const s = cur as string;
      if (op.f === 'get') return { state: s, output: s };
      const v = op.value as string;
      return { state: op.f === 'put' ? v : s + v, output: v };
    },
  }),
  // nil reads as the empty string every key starts with.
  agrees: (f, output, observed) => f !== 'get' || (observed ?? '') === output,
};

/** Whether `observed` is a read of exactly the set `items`: no duplicates, no element missing. */
function sameSet(items: readonly unknown[], observed: unknown): boolean {
  if (!Array.isArray(observed) || observed.length !== items.length) return false;
  const distinct = observed.every((x, i) => observed.findIndex((y) => sameValue(x, y)) === i);
  return distinct && items.every((x) => observed.some((y) => sameValue(x, y)));
}

export const setKind: HistoryKind = {
  name: 'set',
  invocation: fc.oneof(
    fc.constant({ f: 'read', value: null }),
    value.map((v) => ({ f: 'add', value: v })),
  ),
  randomResult: (f) =>
    f === 'read'
      ? fc.oneof(
          fc.uniqueArray(value, { maxLength: 3, comparator: sameValue }),
          fc.array(value, { maxLength: 3 }),
        )
      : fc.constant(undefined),
  executor: {
    init: [] as unknown[],
    step(s, op) {
      const items = s as unknown[];
      if (op.f === 'read') return { state: items, output: items };
      const has = items.some((x) => sameValue(x, op.value));
      return { state: has ? items : [...items, op.value], output: op.value };
    },
  },
  agrees: (f, output, observed) => f !== 'read' || sameSet(output as unknown[], observed),
};

export const queueKind: HistoryKind = {
  name: 'fifo-queue',
  invocation: fc.oneof(
    fc.constant({ f: 'dequeue', value: null }),
    value.map((v) => ({ f: 'enqueue', value: v })),
  ),
  randomResult: (f) => (f === 'dequeue' ? readResult : fc.constant(undefined)),
  executor: {
    init: [] as unknown[],
    step(s, op) {
      const q = s as unknown[];
      if (op.f === 'enqueue') return { state: [...q, op.value], output: op.value };
      return q.length === 0 ? { state: q, output: null } : { state: q.slice(1), output: q[0] };
    },
  },
  agrees: readAgrees('dequeue'),
};

export const mutexKind: HistoryKind = {
  name: 'mutex',
  invocation: fc.constantFrom({ f: 'acquire', value: null }, { f: 'release', value: null }),
  randomResult: () => fc.constant(undefined),
  executor: {
    init: false,
    step(held, op) {
      if (op.f === 'acquire') return held ? undefined : { state: true, output: null };
      return held ? { state: false, output: null } : undefined;
    },
  },
  agrees: () => true,
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

/**
 * Which process runs an operation: a fresh one, one that is done with its previous operation
 * (`reuse`), or one whose previous operation completed at the very time this one is invoked
 * (`tie`: the invoke is moved to that time). `pick` chooses among the candidates.
 */
export interface ProcessChoice {
  mode: 'fresh' | 'reuse' | 'tie';
  pick: number;
}

export const processChoice: fc.Arbitrary<ProcessChoice> = fc.record({
  mode: fc.constantFrom<ProcessChoice['mode']>('fresh', 'fresh', 'reuse', 'tie', 'tie'),
  pick: fc.nat(7),
});

/** An operation's interval while processes are assigned. */
export interface Slot {
  call: number;
  /** The completion time (for info too); Infinity for none. */
  ret: number;
  /** A process that completed it with ok or fail may go on; info or none retires it. */
  goesOn: boolean;
  /** The latest time a `tie` may move the call to (keeping the op's instant inside it). */
  latestCall: number;
  /** Whether a `tie` moves the completion by as much as the call (random intervals). */
  shift: boolean;
}

/**
 * Gives each slot a process, so that a process runs its operations one after another, and
 * moves calls for `tie` choices (slots are changed in place). Returns each slot's process and
 * the order in which they were given (a process's operations in its order), to sort by.
 */
export function assignProcesses(
  slots: Slot[],
  choices: readonly ProcessChoice[],
): { process: number[]; seq: number[] } {
  const order = slots.map((_, i) => i).sort((a, b) => slots[a]!.call - slots[b]!.call || a - b);
  // Per process, the slot it last ran, or -1 once it cannot go on.
  const last: number[] = [];
  const process = new Array<number>(slots.length);
  const seq = new Array<number>(slots.length);
  order.forEach((i, k) => {
    const s = slots[i]!;
    const c = choices[i]!;
    let chosen = -1;
    if (c.mode !== 'fresh') {
      const bound = c.mode === 'tie' ? s.latestCall : s.call;
      const free = last.flatMap((l, p) => (l >= 0 && slots[l]!.ret <= bound ? [p] : []));
      if (free.length > 0) {
        chosen = free[c.pick % free.length]!;
        if (c.mode === 'tie') {
          const t = slots[last[chosen]!]!.ret;
          if (s.shift) s.ret += t - s.call;
          s.call = t;
        }
      }
    }
    if (chosen < 0) {
      chosen = last.length;
      last.push(-1);
    }
    process[i] = chosen;
    seq[i] = k;
    last[chosen] = s.goesOn ? i : -1;
  });
  return { process, seq };
}

interface Spec {
  op: OpSpec;
  call: number;
  ret: number;
  status: ClientOpStatus;
  process: number;
  seq: number;
}

/** Client ops in invoke order (a process's own in its order). */
function build(specs: readonly Spec[]): ClientOp[] {
  const sorted = [...specs].sort((a, b) => a.call - b.call || a.ret - b.ret || a.seq - b.seq);
  let index = 0;
  return sorted.map((s) => {
    const invoke: HistoryEvent = {
      index: index++,
      time: s.call,
      process: s.process,
      type: 'invoke',
      f: s.op.f,
      ...withKey(s.op.key),
      value: s.op.value,
    };
    const op: ClientOp = {
      process: s.process,
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
        process: s.process,
        type: s.status,
        f: s.op.f,
        ...withKey(s.op.key),
        value: s.op.result,
      };
    }
    return op;
  });
}

function slotOf(call: number, ret: number, status: ClientOpStatus, latestCall: number): Slot {
  return {
    call,
    ret: status === 'pending' ? Number.POSITIVE_INFINITY : ret,
    goesOn: status === 'ok' || status === 'fail',
    latestCall,
    shift: !Number.isFinite(latestCall),
  };
}

/**
 * Histories from a real sequential execution: operation i takes effect at instant 2i (when it
 * can run at all; otherwise it failed), its interval is widened at random around it, and some
 * become info, pending or fail (a fail then certainly did not take effect: it is not run).
 * `corrupt` lets a few outputs be replaced at random so that invalid ones appear too.
 */
export function sequentialHistory(kind: HistoryKind, maxOps = 8): fc.Arbitrary<ClientOp[]> {
  return fc
    .array(fc.tuple(kind.invocation, timing, fc.boolean(), processChoice), {
      minLength: 1,
      maxLength: maxOps,
    })
    .chain((items) =>
      fc.tuple(
        fc.constant(items),
        fc.tuple(...items.map(([inv]) => kind.randomResult(inv.f))),
        fc.integer({ min: 0, max: 9 }),
      ),
    )
    .map(([items, randoms, corruptOne]) => {
      let state = kind.executor.init;
      const specs = items.map(([inv, t, keepRandom], i) => {
        const instant = 2 * i + 2;
        let status: ClientOpStatus = t.fate;
        let result: unknown;
        // An info or pending operation may also never have taken effect.
        const runs = status === 'ok' || ((status === 'info' || status === 'pending') && keepRandom);
        if (runs) {
          const r = kind.executor.step(state, inv);
          if (r === undefined) status = 'fail';
          else {
            state = r.state;
            result = r.output;
          }
        }
        if (!runs || status === 'fail')
          result = status === 'fail' || randoms[i] === undefined ? inv.value : randoms[i];
        // One output in ten histories is replaced by a random one.
        if (corruptOne === 0 && keepRandom && status === 'ok' && randoms[i] !== undefined)
          result = randoms[i];
        const op: OpSpec = { f: inv.f, ...withKey(inv.key), value: inv.value, result };
        return {
          op,
          status,
          slot: slotOf(Math.max(0, instant - t.before), instant + t.after, status, instant),
        };
      });
      const { process, seq } = assignProcesses(
        specs.map((s) => s.slot),
        items.map(([, , , choice]) => choice),
      );
      return build(
        specs.map((s, i) => ({
          op: s.op,
          call: s.slot.call,
          ret: s.slot.ret,
          status: s.status,
          process: process[i]!,
          seq: seq[i]!,
        })),
      );
    });
}

/**
 * Histories with random intervals and random outputs; `span` bounds calls and lengths (a
 * small one makes equal times, and so processes tied across keys, common).
 */
export function randomHistory(
  kind: HistoryKind,
  maxOps = 8,
  span = { call: 12, length: 6 },
): fc.Arbitrary<ClientOp[]> {
  return fc
    .array(
      fc.tuple(
        kind.invocation,
        fc.integer({ min: 0, max: span.call }),
        fc.integer({ min: 0, max: span.length }),
        timing,
        processChoice,
      ),
      { minLength: 1, maxLength: maxOps },
    )
    .chain((items) =>
      fc.tuple(fc.constant(items), fc.tuple(...items.map(([inv]) => kind.randomResult(inv.f)))),
    )
    .map(([items, results]) => {
      const slots = items.map(([, call, len, t]) =>
        slotOf(call, call + len, t.fate, Number.POSITIVE_INFINITY),
      );
      const { process, seq } = assignProcesses(
        slots,
        items.map(([, , , , choice]) => choice),
      );
      return build(
        items.map(([inv, , , t], i) => ({
          op: { f: inv.f, ...withKey(inv.key), value: inv.value, result: results[i] ?? inv.value },
          call: slots[i]!.call,
          ret: slots[i]!.ret,
          status: t.fate,
          process: process[i]!,
          seq: seq[i]!,
        })),
      );
    });
}

/**
 * kv histories shaped to tie keys by process order: each of two or three processes runs an
 * op on one key, then, invoked at the very time it completed, an op on a key (often the other
 * one); the processes' tie instants often coincide. Store buffering (each process writes one
 * key, then reads the other and sees nothing) is among them: each key alone is linearizable,
 * the whole history is not.
 */
export function tiedKeysHistory(): fc.Arbitrary<ClientOp[]> {
  const kind = twoKeyKvKind;
  const read = fc.constantFrom<unknown>(null, 0, 1);
  const proc = fc.record({
    first: kind.invocation,
    second: kind.invocation,
    results: fc.tuple(read, read),
    call: fc.integer({ min: 0, max: 3 }),
    tie: fc.integer({ min: 3, max: 4 }),
    length: fc.integer({ min: 0, max: 2 }),
    fate: fc.constantFrom<ClientOpStatus>('ok', 'ok', 'ok', 'info'),
  });
  return fc.array(proc, { minLength: 2, maxLength: 3 }).map((ps) =>
    build(
      ps.flatMap((p, i) =>
        [p.first, p.second].map((inv, k) => ({
          op: {
            f: inv.f,
            ...withKey(inv.key),
            value: inv.value,
            result: inv.f === 'read' ? p.results[k] : inv.value,
          },
          call: k === 0 ? p.call : p.tie,
          ret: k === 0 ? p.tie : p.tie + p.length,
          status: k === 0 ? 'ok' : p.fate,
          process: i,
          seq: 2 * i + k,
        })),
      ),
    ),
  );
}
