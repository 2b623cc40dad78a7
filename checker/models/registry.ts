/**
 * The history models by name. `porcupineModel` is also what worker threads import to rebuild a
 * model (see HistoryModel.source).
 */
import type { Model } from '../porcupine/index.js';
import { appendKvHistoryModel } from './append-kv.js';
import { fifoQueueHistoryModel } from './fifo-queue.js';
import type { HistoryModel } from './history-model.js';
import { kvHistoryModel } from './kv.js';
import { mutexHistoryModel } from './mutex.js';
import { registerHistoryModel } from './register.js';
import { setHistoryModel } from './set.js';

const NAMES = [
  'register',
  'cas-register',
  'kv',
  'append-kv',
  'set',
  'fifo-queue',
  'mutex',
] as const;
export type HistoryModelName = (typeof NAMES)[number];
/** The names `getHistoryModel` knows. */
export const HISTORY_MODEL_NAMES: readonly string[] = NAMES;

/** Models whose initial value can be chosen (default nil). */
const WITH_INITIAL: ReadonlySet<string> = new Set(['register', 'cas-register', 'kv']);

export function isHistoryModelName(name: string): name is HistoryModelName {
  return (HISTORY_MODEL_NAMES as readonly string[]).includes(name);
}

export interface HistoryModelOptions {
  /** Initial value of register, cas-register and kv (every key); default null (nil). */
  initial?: unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry of models of different state types
export type AnyHistoryModel = HistoryModel<any, any, any>;

/** The history model called `name`; throws an error listing the known names otherwise. */
export function getHistoryModel(name: string, options: HistoryModelOptions = {}): AnyHistoryModel {
  const url = import.meta.url;
  if (!isHistoryModelName(name)) {
    throw new Error(`unknown model "${name}"; known models: ${HISTORY_MODEL_NAMES.join(', ')}`);
  }
  if (options.initial !== undefined && options.initial !== null && !WITH_INITIAL.has(name)) {
    throw new Error(
      `model "${name}" has no configurable initial value (only ${[...WITH_INITIAL].join(', ')})`,
    );
  }
  switch (name) {
    case 'register':
    case 'cas-register':
      return registerHistoryModel(name, options.initial, url);
    case 'kv':
      return kvHistoryModel(options.initial, url);
    case 'append-kv':
      return appendKvHistoryModel(url);
    case 'set':
      return setHistoryModel(url);
    case 'fifo-queue':
      return fifoQueueHistoryModel(url);
    case 'mutex':
      return mutexHistoryModel(url);
  }
}

/** The porcupine model of a history model: the entry point worker threads import. */
export function porcupineModel(name: string, initial: unknown): Model<unknown, unknown, unknown> {
  const m = getHistoryModel(name, initial === null || initial === undefined ? {} : { initial });
  return m.model as Model<unknown, unknown, unknown>;
}
