/** `mutex`: `acquire` and `release` of one lock. The state is whether it is held. */
import type { ClientOp } from '../history/client-op.js';
import type { Model } from '../porcupine/index.js';
import { UNKNOWN } from '../porcupine/index.js';
import type { HistoryModel } from './history-model.js';
import { ModelMismatchError, observed } from './history-model.js';

export type MutexInput = { f: 'acquire' } | { f: 'release' };
export type MutexOutput = true;

export function mutexModel(): Model<boolean, MutexInput, MutexOutput> {
  return {
    init: () => false,
    step: (held, input) =>
      input.f === 'acquire' ? (held ? undefined : true) : held ? false : undefined,
    equal: (a, b) => a === b,
    hash: (held) => (held ? 1 : 0),
    describeOperation: (input, output) => `${input.f}${output === UNKNOWN ? ' ?' : ''}`,
    describeState: (held) => (held ? 'held' : 'free'),
  };
}

export function mutexHistoryModel(
  moduleUrl: string,
): HistoryModel<boolean, MutexInput, MutexOutput> {
  return {
    name: 'mutex',
    model: mutexModel(),
    toOperation(op: ClientOp) {
      if (op.f !== 'acquire' && op.f !== 'release') {
        throw new ModelMismatchError('mutex', op, 'expected acquire or release');
      }
      return { input: { f: op.f }, output: observed(op) === UNKNOWN ? UNKNOWN : true };
    },
    source: { module: moduleUrl, exportName: 'porcupineModel', args: ['mutex', null] },
  };
}
