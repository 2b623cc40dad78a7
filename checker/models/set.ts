/**
 * `set`: `add x` and `read` (the whole set, as an array). The state is the sorted list of the
 * elements' canonical texts; a read matches when it holds exactly those elements (a read with a
 * duplicate never matches: a set has none).
 */
import type { ClientOp } from '../history/client-op.js';
import type { Model } from '../porcupine/index.js';
import { hashString, UNKNOWN } from '../porcupine/index.js';
import type { HistoryModel } from './history-model.js';
import { ModelMismatchError, observed } from './history-model.js';
import { canonText, elementKey } from './values.js';

export type SetInput = { f: 'add'; value: string } | { f: 'read' };
/** A read's output: the sorted element texts; add outputs true. */
export type SetOutput = readonly string[] | true;

export interface SetState {
  readonly items: readonly string[];
  /** Sum of the items' hashes (order-independent). */
  readonly hash: number;
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether every item of sorted `a` is in sorted `b`. */
function subset(a: readonly string[], b: readonly string[]): boolean {
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j]! < x) j++;
    if (j >= b.length || b[j] !== x) return false;
  }
  return true;
}

export function setModel(): Model<SetState, SetInput, SetOutput> {
  return {
    init: () => ({ items: [], hash: 0 }),
    step(state, input, output) {
      if (input.f === 'read') {
        return output === UNKNOWN || sameItems(state.items, output as readonly string[])
          ? state
          : undefined;
      }
      const items = state.items;
      let lo = 0;
      let hi = items.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (items[mid]! < input.value) lo = mid + 1;
        else hi = mid;
      }
      if (items[lo] === input.value) return state;
      const next = items.slice();
      next.splice(lo, 0, input.value);
      return { items: next, hash: (state.hash + hashString(input.value)) | 0 };
    },
    equal: (a, b) => a === b || (a.hash === b.hash && sameItems(a.items, b.items)),
    hash: (s) => s.hash,
    readOnly: (input) => input.f === 'read',
    /** Exact pruning: a set only grows, so every pending read must contain every element already in. */
    viability: (ops) => (state, pending, size) => {
      for (let j = 0; j < size; j++) {
        const op = ops[pending[j]!]!;
        if (
          op.input.f !== 'read' ||
          op.output === UNKNOWN ||
          op.return === Number.POSITIVE_INFINITY
        )
          continue;
        if (!subset(state.items, op.output as readonly string[])) return false;
      }
      return true;
    },
    describeOperation: (input, output) =>
      input.f === 'add'
        ? `add ${input.value}${output === UNKNOWN ? ' ?' : ''}`
        : `read → ${output === UNKNOWN ? '?' : `#{${(output as readonly string[]).join(' ')}}`}`,
    describeState: (s) => `#{${s.items.join(' ')}}`,
  };
}

export function setHistoryModel(moduleUrl: string): HistoryModel<SetState, SetInput, SetOutput> {
  return {
    name: 'set',
    model: setModel(),
    toOperation(op: ClientOp) {
      const out = observed(op);
      if (op.f === 'add') {
        return {
          input: { f: 'add', value: elementKey(op.invoke.value) },
          output: out === UNKNOWN ? UNKNOWN : true,
        };
      }
      if (op.f === 'read') {
        if (out === UNKNOWN) return { input: { f: 'read' }, output: UNKNOWN };
        if (!Array.isArray(out)) {
          throw new ModelMismatchError(
            'set',
            op,
            `a read must return an array, got ${canonText(out)}`,
          );
        }
        return { input: { f: 'read' }, output: out.map(elementKey).sort() };
      }
      throw new ModelMismatchError('set', op, 'expected add or read');
    },
    source: { module: moduleUrl, exportName: 'porcupineModel', args: ['set', null] },
  };
}
