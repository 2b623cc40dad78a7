export type { HistoryModel } from './history-model.js';
export { ModelMismatchError } from './history-model.js';
export type { AnyHistoryModel, HistoryModelName, HistoryModelOptions } from './registry.js';
export {
  getHistoryModel,
  HISTORY_MODEL_NAMES,
  isHistoryModelName,
  porcupineModel,
} from './registry.js';
