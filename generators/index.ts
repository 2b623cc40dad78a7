export type { Gen, GenContext, GenLike, OpStep, PendingStep, Step } from '../core/generator.js';
export {
  concat,
  cycle,
  delay,
  each,
  empty,
  filter,
  isGen,
  just,
  limit,
  map,
  mix,
  once,
  onThreads,
  ops,
  phases,
  rate,
  repeat,
  sleep,
  stagger,
  synchronize,
  timeLimit,
  toGen,
} from './combinators.js';
export type { SimulatedOp, SimulateOptions } from './simulate.js';
export { simulate } from './simulate.js';
