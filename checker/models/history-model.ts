import type { ClientOp } from '../history/client-op.js';
import type { Model, ModelSource, Unknown } from '../porcupine/index.js';
import { UNKNOWN } from '../porcupine/index.js';

/** A porcupine model plus the mapping from history operations to its inputs and outputs. */
export interface HistoryModel<S, I, O> {
  name: string;
  model: Model<S, I, O>;
  /**
   * The model's input and output for a client operation. Indeterminate operations (info,
   * pending) get output UNKNOWN. Throws an error naming the operation's `f` when it does not
   * fit the model.
   */
  toOperation(op: ClientOp): { input: I; output: O | Unknown };
  /** How a worker thread rebuilds `model`. */
  source: ModelSource;
}

/** The error for an operation a model cannot interpret. */
export class ModelMismatchError extends Error {
  constructor(model: string, op: ClientOp, why: string) {
    const where = `process ${String(op.process)}, history index ${op.invoke.index}`;
    super(`model "${model}" cannot check operation f=${JSON.stringify(op.f)} (${where}): ${why}`);
    this.name = 'ModelMismatchError';
  }
}

/** True for operations whose outcome is unknown. */
export function indeterminate(op: ClientOp): boolean {
  return op.status === 'info' || op.status === 'pending';
}

/** The completion's value of an ok op, or UNKNOWN for an indeterminate one. */
export function observed(op: ClientOp): unknown {
  return indeterminate(op) ? UNKNOWN : op.completion?.value;
}
