/**
 * Registers: `register` (read/write) and `cas-register` (read/write/cas). The state is the
 * register's canonical value; a cas value is `[from, to]` and an ok cas took effect.
 */
import type { ClientOp } from '../history/client-op.js';
import type { Model, Operation, Unknown, Viability } from '../porcupine/index.js';
import { defaultHash, UNKNOWN } from '../porcupine/index.js';
import type { HistoryModel } from './history-model.js';
import { ModelMismatchError, observed } from './history-model.js';
import { CallTimes } from './pruning.js';
import type { Canon } from './values.js';
import { canon, casPair, showCanon } from './values.js';

export type RegisterInput =
  | { f: 'read' }
  | { f: 'write'; value: Canon }
  | { f: 'cas'; from: Canon; to: Canon };

/** A read's output is the value read; writes and cas output true (they took effect). */
export type RegisterOutput = Canon;

export function stepRegister(
  state: Canon,
  input: RegisterInput,
  output: RegisterOutput | Unknown,
): Canon | undefined {
  switch (input.f) {
    case 'read':
      return output === UNKNOWN || output === state ? state : undefined;
    case 'write':
      return input.value;
    case 'cas':
      return state === input.from ? input.to : undefined;
  }
}

/** The value the state must hold just before `input` is accepted with `output`, if any. */
export function required(input: RegisterInput, output: RegisterOutput): Canon | undefined {
  if (input.f === 'read') return output;
  if (input.f === 'cas') return input.from;
  return undefined;
}

export function writes(input: RegisterInput, value: Canon): boolean {
  return (
    (input.f === 'write' && input.value === value) || (input.f === 'cas' && input.to === value)
  );
}

const NO_KEY = '';

/**
 * Indeterminate writes and cas (one register, or many by `key`) whose written value nothing
 * observes: no read with a known output returned it and no cas expects it, on that key. Such an
 * op never has to take effect, and if it did, the register held its value until the next write
 * with no operation looking (any op there would have to see that value), so dropping it keeps
 * the verdict (see Model.unobservable). A value written twice counts as observed if either is.
 */
export function registerUnobservable(
  ops: readonly Operation<RegisterInput & { key?: string }, RegisterOutput>[],
): (op: Operation<RegisterInput & { key?: string }, RegisterOutput>) => boolean {
  const seen = new Map<string, Set<Canon>>();
  const see = (key: string, value: Canon) => {
    let values = seen.get(key);
    if (values === undefined) {
      values = new Set();
      seen.set(key, values);
    }
    values.add(value);
  };
  for (const op of ops) {
    const key = op.input.key ?? NO_KEY;
    if (op.input.f === 'cas') see(key, op.input.from);
    else if (op.input.f === 'read' && op.output !== UNKNOWN) see(key, op.output as Canon);
  }
  return (op) => {
    if (op.output !== UNKNOWN) return false;
    const input = op.input;
    const written = input.f === 'write' ? input.value : input.f === 'cas' ? input.to : undefined;
    return written !== undefined && !(seen.get(input.key ?? NO_KEY)?.has(written) ?? false);
  };
}

/**
 * Exact pruning for registers, one or many (by `key`): every pending operation with a known
 * output that needs the register to hold a value (a read, a cas) must find it there already,
 * or have an operation that may come before it write that value.
 */
export function registerViability<S>(
  ops: readonly Operation<RegisterInput & { key?: string }, RegisterOutput>[],
  valueAt: (state: S, key: string) => Canon,
): Viability<S> {
  // Call times of the writers of each value, per key; built on first use (most steps are
  // decided by the state or the window alone).
  let writers: Map<string, CallTimes<Canon>> | undefined;
  const build = (): Map<string, CallTimes<Canon>> => {
    const byKey = new Map<string, CallTimes<Canon>>();
    for (const op of ops) {
      const input = op.input;
      const written = input.f === 'write' ? input.value : input.f === 'cas' ? input.to : undefined;
      if (written === undefined) continue;
      const key = input.key ?? NO_KEY;
      let t = byKey.get(key);
      if (t === undefined) {
        t = new CallTimes<Canon>();
        byKey.set(key, t);
      }
      t.add(written, op.call);
    }
    return byKey;
  };
  return (state, pending, size, front) => {
    for (let j = 0; j < size; j++) {
      const g = pending[j]!;
      const op = ops[g]!;
      if (op.output === UNKNOWN || op.return === Number.POSITIVE_INFINITY) continue;
      const v = required(op.input, op.output as RegisterOutput);
      if (v === undefined) continue;
      const key = op.input.key ?? NO_KEY;
      if (valueAt(state, key) === v) continue;
      let found = false;
      for (let k = 0; k < size && !found; k++) {
        const o = pending[k]!;
        const input = ops[o]!.input;
        found = o !== g && (input.key ?? NO_KEY) === key && writes(input, v);
      }
      if (found) continue;
      writers ??= build();
      if (!(writers.get(key)?.anyIn(v, ops[front]!.return, op.return) ?? false)) return false;
    }
    return true;
  };
}

export function describeRegisterOp(input: RegisterInput, output: RegisterOutput | Unknown): string {
  switch (input.f) {
    case 'read':
      return `read → ${output === UNKNOWN ? '?' : showCanon(output)}`;
    case 'write':
      return `write ${showCanon(input.value)}${output === UNKNOWN ? ' ?' : ''}`;
    case 'cas':
      return `cas ${showCanon(input.from)} → ${showCanon(input.to)}${output === UNKNOWN ? ' ?' : ''}`;
  }
}

export function registerModel(initial: unknown): Model<Canon, RegisterInput, RegisterOutput> {
  const init = canon(initial);
  return {
    init: () => init,
    step: stepRegister,
    equal: (a, b) => a === b,
    hash: defaultHash,
    readOnly: (input) => input.f === 'read',
    viability: (ops) => registerViability<Canon>(ops, (state) => state),
    unobservable: registerUnobservable,
    describeOperation: describeRegisterOp,
    describeState: showCanon,
  };
}

/** Input and output of a read/write/cas history operation. */
export function registerOperation(
  name: string,
  op: ClientOp,
  withCas: boolean,
): { input: RegisterInput; output: RegisterOutput | Unknown } {
  const out = observed(op);
  switch (op.f) {
    case 'read':
      return { input: { f: 'read' }, output: out === UNKNOWN ? UNKNOWN : canon(out) };
    case 'write':
      return {
        input: { f: 'write', value: canon(op.invoke.value) },
        output: out === UNKNOWN ? UNKNOWN : true,
      };
    case 'cas': {
      if (!withCas) break;
      let pair: [unknown, unknown];
      try {
        pair = casPair(op.invoke.value);
      } catch (e) {
        throw new ModelMismatchError(name, op, (e as Error).message);
      }
      return {
        input: { f: 'cas', from: canon(pair[0]), to: canon(pair[1]) },
        output: out === UNKNOWN ? UNKNOWN : true,
      };
    }
  }
  throw new ModelMismatchError(
    name,
    op,
    `expected ${withCas ? 'read, write or cas' : 'read or write'}`,
  );
}

export function registerHistoryModel(
  name: 'register' | 'cas-register',
  initial: unknown,
  moduleUrl: string,
): HistoryModel<Canon, RegisterInput, RegisterOutput> {
  const withCas = name === 'cas-register';
  return {
    name,
    model: registerModel(initial),
    toOperation: (op) => registerOperation(name, op, withCas),
    source: { module: moduleUrl, exportName: 'porcupineModel', args: [name, initial ?? null] },
  };
}
