/** History types and I/O: the JSONL format, Jepsen imports, well-formedness and pairing. */
export type { ClientOp, ClientOpStatus } from './client-op.js';
export {
  detectFormat,
  detectFormatFromText,
  HISTORY_FORMATS,
  type HistoryFormat,
  type HistoryFormatOption,
  historyFormatOptionSchema,
  isHistoryFormatOption,
} from './detect.js';
export { parseEdnHistory } from './edn.js';
export { parseEdnLinesHistory } from './edn-lines.js';
export {
  HistoryError,
  type HistoryLocation,
  type HistoryWarning,
  isHistoryError,
} from './errors.js';
export {
  type HistoryEvent,
  historyEventSchema,
  isClientEvent,
  isNemesisEvent,
  isObserverEvent,
  type Key,
  keySchema,
  NEMESIS,
  NON_CLIENT_PROCESSES,
  OBSERVER,
  OP_TYPES,
  type OpType,
  type ProcessId,
  processSchema,
} from './event.js';
export {
  type EdnExportOptions,
  eventToEdn,
  toEdnHistory,
  toEdnLines,
  toJepsenLog,
} from './export.js';
export { type GenerateOptions, generateHistory, prng } from './generate.js';
export type { ImportedHistory } from './imported.js';
export { parseJepsenLogHistory } from './jepsen-log.js';
export {
  type JsonlBatch,
  type JsonlHistory,
  type JsonlHistoryOptions,
  JsonlHistoryWriter,
  type JsonlReadOptions,
  type JsonlWriterOptions,
  type LineEvent,
  readJsonlBatches,
  readJsonlEvents,
  readJsonlHistory,
} from './jsonl.js';
export { type LoadedHistory, loadHistory } from './load.js';
export { pairOperations, type SplitHistory, splitHistory } from './pair.js';
export { isHistoryEvent, parseHistoryEvent } from './validate.js';
export {
  checkWellFormed,
  type RetiredProcessPolicy,
  WellFormedChecker,
  type WellFormedOptions,
} from './well-formed.js';
