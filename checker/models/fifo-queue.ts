/**
 * `fifo-queue`: `enqueue x` and `dequeue` (the value taken, or null when the queue was empty).
 * The state is the list of queued elements' canonical texts.
 */
import type { ClientOp } from '../history/client-op.js';
import type { Model } from '../porcupine/index.js';
import { hashString, UNKNOWN } from '../porcupine/index.js';
import type { HistoryModel } from './history-model.js';
import { ModelMismatchError, observed } from './history-model.js';
import { elementKey } from './values.js';

export type QueueInput = { f: 'enqueue'; value: string } | { f: 'dequeue' };
/** A dequeue's output: the element's text, or null for an empty queue; enqueue outputs true. */
export type QueueOutput = string | null | true;

export interface QueueState {
  readonly items: readonly string[];
  readonly hash: number;
}

function queueHash(items: readonly string[]): number {
  let h = items.length;
  for (const x of items) h = (Math.imul(h, 0x01000193) + hashString(x)) | 0;
  return h;
}

function queue(items: readonly string[]): QueueState {
  return { items, hash: queueHash(items) };
}

export function fifoQueueModel(): Model<QueueState, QueueInput, QueueOutput> {
  return {
    init: () => queue([]),
    step(state, input, output) {
      if (input.f === 'enqueue') return queue([...state.items, input.value]);
      if (state.items.length === 0)
        return output === UNKNOWN || output === null ? state : undefined;
      if (output === UNKNOWN || output === state.items[0]) return queue(state.items.slice(1));
      return undefined;
    },
    equal: (a, b) =>
      a === b ||
      (a.hash === b.hash &&
        a.items.length === b.items.length &&
        a.items.every((x, i) => x === b.items[i])),
    hash: (s) => s.hash,
    describeOperation: (input, output) =>
      input.f === 'enqueue'
        ? `enqueue ${input.value}${output === UNKNOWN ? ' ?' : ''}`
        : `dequeue → ${output === UNKNOWN ? '?' : output === null ? 'empty' : String(output)}`,
    describeState: (s) => `[${s.items.join(' ')}]`,
  };
}

export function fifoQueueHistoryModel(
  moduleUrl: string,
): HistoryModel<QueueState, QueueInput, QueueOutput> {
  return {
    name: 'fifo-queue',
    model: fifoQueueModel(),
    toOperation(op: ClientOp) {
      const out = observed(op);
      if (op.f === 'enqueue') {
        return {
          input: { f: 'enqueue', value: elementKey(op.invoke.value) },
          output: out === UNKNOWN ? UNKNOWN : true,
        };
      }
      if (op.f === 'dequeue') {
        if (out === UNKNOWN) return { input: { f: 'dequeue' }, output: UNKNOWN };
        return {
          input: { f: 'dequeue' },
          output: out === null || out === undefined ? null : elementKey(out),
        };
      }
      throw new ModelMismatchError('fifo-queue', op, 'expected enqueue or dequeue');
    },
    source: { module: moduleUrl, exportName: 'porcupineModel', args: ['fifo-queue', null] },
  };
}
