import type { Workload, WorkloadContext, WorkloadDefinition } from '../core/workload.js';
import { counter } from './counter/index.js';
import { eventualKv } from './eventual-kv/index.js';
import { kv } from './kv/index.js';
import { register } from './register/index.js';
import { set } from './set/index.js';
import { listAppend, rwRegister } from './txn/workloads.js';

export type {
  CheckerOutput,
  CheckerReport,
  CheckInput,
  ReplicaReadsSpec,
  Workload,
  WorkloadChecker,
  WorkloadContext,
  WorkloadDefinition,
} from '../core/workload.js';

/** A workload with its options type erased: `build` validates the raw options itself. */
export interface RegisteredWorkload {
  name: string;
  description: string;
  /** Throws WorkloadOptionsError naming the option and the bad value. */
  build(rawOptions: unknown, ctx: WorkloadContext): Workload;
  /** The options with their defaults, as `faultline run --help` lists them. */
  defaults(): Readonly<Record<string, unknown>>;
}

export class WorkloadOptionsError extends Error {
  override readonly name = 'WorkloadOptionsError';
}

export function registerWorkload<O>(def: WorkloadDefinition<O>): RegisteredWorkload {
  return {
    name: def.name,
    description: def.description,
    defaults() {
      const r = def.options.safeParse({});
      return r.success && typeof r.data === 'object' && r.data !== null
        ? (r.data as Record<string, unknown>)
        : {};
    },
    build(raw, ctx) {
      const r = def.options.safeParse(raw ?? {});
      if (!r.success) {
        const msg = r.error.issues
          .map((i) => {
            const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
            const field = ['workload', 'options', ...i.path.map(String)].join('.');
            const got = i.path.reduce<unknown>(
              (v, k) =>
                typeof v === 'object' && v !== null
                  ? (v as Record<PropertyKey, unknown>)[k]
                  : undefined,
              raw,
            );
            return `field ${field}: ${i.message}${keys}${got !== undefined && keys === '' ? `, got ${JSON.stringify(got)}` : ''}`;
          })
          .join('\n');
        throw new WorkloadOptionsError(`workload ${def.name}: ${msg}`);
      }
      return def.build(r.data, ctx);
    },
  };
}

/** Workloads by name. */
export const WORKLOADS: ReadonlyMap<string, RegisteredWorkload> = new Map(
  [
    registerWorkload(register),
    registerWorkload(kv),
    registerWorkload(eventualKv),
    registerWorkload(set),
    registerWorkload(counter),
    registerWorkload(listAppend),
    registerWorkload(rwRegister),
  ].map((w) => [w.name, w]),
);
