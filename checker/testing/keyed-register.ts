/**
 * A tiny keyed register of integers for the porcupine tests, in a module of its own so that
 * worker threads can import it (see ModelSource).
 */
import type { Model, ModelSource } from '../porcupine/index.js';
import { UNKNOWN } from '../porcupine/index.js';

export type KeyedInput = { key: string; f: 'read' | 'write'; value: number };

export const keyedRegister: Model<number, KeyedInput, number> = {
  init: () => 0,
  step: (s, i, o) => (i.f === 'write' ? i.value : o === UNKNOWN || o === s ? s : undefined),
  partitionKey: (i) => i.key,
  readOnly: (i) => i.f === 'read',
  describeState: (s) => `value ${s}`,
};

export const keyedRegisterSource: ModelSource = {
  module: import.meta.url,
  exportName: 'keyedRegister',
};
