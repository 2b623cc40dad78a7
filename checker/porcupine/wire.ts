/**
 * Operations and results as they cross to and from worker threads. Structured clone cannot
 * carry the UNKNOWN symbol, so an unknown output travels as a flag.
 */
import type { Operation, PartitionResult } from './types.js';
import { UNKNOWN } from './types.js';

export interface WireOperation<I, O> {
  clientId: number;
  input: I;
  call: number;
  return: number;
  id?: number;
  output?: O;
  unknown: boolean;
}

export function toWire<I, O>(op: Operation<I, O>): WireOperation<I, O> {
  const w: WireOperation<I, O> = {
    clientId: op.clientId,
    input: op.input,
    call: op.call,
    return: op.return,
    unknown: op.output === UNKNOWN,
  };
  if (op.output !== UNKNOWN) w.output = op.output;
  if (op.id !== undefined) w.id = op.id;
  return w;
}

export function fromWire<I, O>(w: WireOperation<I, O>): Operation<I, O> {
  const op: Operation<I, O> = {
    clientId: w.clientId,
    input: w.input,
    call: w.call,
    return: w.return,
    output: w.unknown ? UNKNOWN : (w.output as O),
  };
  if (w.id !== undefined) op.id = w.id;
  return op;
}

export type WirePartitionResult<I, O> = Omit<PartitionResult<I, O>, 'info'> & {
  info?: Omit<NonNullable<PartitionResult<I, O>['info']>, 'operations'> & {
    operations: WireOperation<I, O>[];
  };
};

export function resultToWire<I, O>(r: PartitionResult<I, O>): WirePartitionResult<I, O> {
  const { info, ...rest } = r;
  if (info === undefined) return rest;
  return { ...rest, info: { ...info, operations: info.operations.map(toWire) } };
}

export function resultFromWire<I, O>(r: WirePartitionResult<I, O>): PartitionResult<I, O> {
  const { info, ...rest } = r;
  if (info === undefined) return rest;
  return { ...rest, info: { ...info, operations: info.operations.map(fromWire) } };
}
