/**
 * `kv`: a map of registers with read/write/cas per `key`, partitioned by key. The state maps
 * each key to its value; keys holding the initial value are left out, so equal maps are equal
 * states. Searched per key (the default), a state holds at most one key.
 */
import type { ClientOp } from '../history/client-op.js';
import type { Model, Unknown } from '../porcupine/index.js';
import { defaultHash, hashString } from '../porcupine/index.js';
import type { HistoryModel } from './history-model.js';
import { ModelMismatchError } from './history-model.js';
import type { RegisterInput, RegisterOutput } from './register.js';
import {
  describeRegisterOp,
  registerOperation,
  registerUnobservable,
  registerViability,
  stepRegister,
} from './register.js';
import { findSortedKey } from './sorted-keys.js';
import type { Canon } from './values.js';
import { canon, keyName, showCanon } from './values.js';

/** `key` is the history key's `keyName`: 1 and "1" are two keys. */
export type KvInput = RegisterInput & { key: string };

export interface KvState {
  /** Keys holding a value other than the initial one, sorted; `values` parallel to them. */
  readonly keys: readonly string[];
  readonly values: readonly Canon[];
  /** XOR over keys of a hash of (key, value). */
  readonly hash: number;
}

function entryHash(key: string, value: Canon): number {
  return Math.imul(hashString(key) ^ Math.imul(defaultHash(value), 0x85ebca6b), 0xc2b2ae35) | 0;
}

export function kvModel(initial: unknown): Model<KvState, KvInput, RegisterOutput> {
  const init = canon(initial);
  const empty: KvState = { keys: [], values: [], hash: 0 };
  const get = (s: KvState, key: string): Canon => {
    // Searched per key, a state holds at most one key.
    if (s.keys.length === 1) return s.keys[0] === key ? s.values[0]! : init;
    const i = findSortedKey(s.keys, key);
    return i >= 0 ? s.values[i]! : init;
  };
  return {
    init: () => empty,
    step(state, input, output) {
      const before = get(state, input.key);
      const after = stepRegister(before, input, output);
      if (after === undefined) return undefined;
      if (after === before) return state;
      let hash = state.hash;
      if (before !== init) hash ^= entryHash(input.key, before);
      if (after !== init) hash ^= entryHash(input.key, after);
      const i = findSortedKey(state.keys, input.key);
      if (i >= 0) {
        if (after === init) {
          const keys = state.keys.slice();
          const values = state.values.slice();
          keys.splice(i, 1);
          values.splice(i, 1);
          return { keys, values, hash };
        }
        const values = state.values.slice();
        values[i] = after;
        return { keys: state.keys, values, hash };
      }
      const at = -i - 1;
      const keys = state.keys.slice();
      const values = state.values.slice();
      keys.splice(at, 0, input.key);
      values.splice(at, 0, after);
      return { keys, values, hash };
    },
    equal(a, b) {
      if (a === b) return true;
      if (a.hash !== b.hash || a.keys.length !== b.keys.length) return false;
      for (let i = 0; i < a.keys.length; i++) {
        if (a.keys[i] !== b.keys[i] || a.values[i] !== b.values[i]) return false;
      }
      return true;
    },
    hash: (s) => s.hash,
    partitionKey: (input) => input.key,
    readOnly: (input) => input.f === 'read',
    viability: (ops) => registerViability<KvState>(ops, get),
    unobservable: registerUnobservable,
    describeOperation: (input, output) => `${input.key}: ${describeRegisterOp(input, output)}`,
    describeState(s) {
      const shown = s.keys
        .map((k, i) => `${JSON.stringify(k)}: ${showCanon(s.values[i]!)}`)
        .join(', ');
      return `{${shown}}${init === null ? '' : ` (others ${showCanon(init)})`}`;
    },
  };
}

export function kvHistoryModel(
  initial: unknown,
  moduleUrl: string,
): HistoryModel<KvState, KvInput, RegisterOutput> {
  return {
    name: 'kv',
    model: kvModel(initial),
    toOperation(op: ClientOp): { input: KvInput; output: RegisterOutput | Unknown } {
      if (op.key === undefined)
        throw new ModelMismatchError('kv', op, 'a kv operation needs a key');
      const { input, output } = registerOperation('kv', op, true);
      (input as KvInput).key = keyName(op.key);
      return { input: input as KvInput, output };
    },
    source: { module: moduleUrl, exportName: 'porcupineModel', args: ['kv', initial ?? null] },
  };
}
