import { z } from 'zod';
import type { ClientOp } from '../../checker/history/client-op.js';
import type { QuorumOp } from '../../core/client.js';
import type { WorkloadDefinition } from '../../core/workload.js';
import { linearizabilityChecker, statsChecker } from '../checkers.js';
import { convergenceChecker } from '../eventual-checkers.js';
import { eventualFinalPhase, finalPhaseOptions } from '../final-phase.js';
import { independentKeys, KeyLog, pickWeighted, requireClient } from '../keyed.js';
import { quorumOptions, withQuorum } from '../quorum.js';

export const eventualKvOptions = z
  .object({
    /** Keys in use at a time. */
    activeKeys: z.number().int().min(1).max(1000).default(3),
    /** Ops each key gets before the workload moves on to a fresh key (bounds siblings per key). */
    opsPerKey: z.number().int().min(1).max(100_000).default(60),
    /** Relative weights of read and write. */
    mix: z
      .object({ read: z.number().min(0), write: z.number().min(0) })
      .default({ read: 1, write: 1 }),
    ...quorumOptions,
    ...finalPhaseOptions,
    /** The linearizability checker's budget, seconds. */
    checkTimeout: z.number().positive().default(60),
  })
  .strict();

export type EventualKvOptions = z.output<typeof eventualKvOptions>;

/** Values in the order of their JSON text (siblings come in no particular order). */
function sortedByJson(values: readonly unknown[]): unknown[] {
  return values
    .map((v) => [JSON.stringify(v), v] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, v]) => v);
}

/**
 * A read's array of values as one register value for the kv model: [] → null (absent), [v] → v,
 * several siblings → a value no write wrote (`{siblings: [...]}`), which no linearizable register
 * could return, so the read is an anomaly. Only reads and writes are judged (not replica reads).
 */
export function asRegisterOps(ops: readonly ClientOp[]): ClientOp[] {
  const out: ClientOp[] = [];
  for (const op of ops) {
    if (op.f === 'write') out.push(op);
    else if (op.f === 'read') {
      const c = op.completion;
      if (op.status !== 'ok' || c === undefined || !Array.isArray(c.value)) {
        out.push(op);
        continue;
      }
      const values = c.value as unknown[];
      const value =
        values.length === 0
          ? null
          : values.length === 1
            ? values[0]
            : { siblings: sortedByJson(values) };
      out.push({ ...op, completion: { ...c, value } });
    }
  }
  return out;
}

/**
 * `eventual-kv`: eventual GET / PUT (`/kv/:key`, `?r=` `?w=`) on independent keys with unique
 * write values (the client sends the context of its last read of the key, so in siblings mode a
 * write supersedes what that read saw). Checked twice: linearizability (kv model, a
 * read's values as one register value: expected to fail in weak settings, a real finding with
 * its timeline) and convergence of the final replica states, by the conflict mode the system's kv API declares
 * (`lww`: acknowledged writes that vanished are lost; `siblings`: every acknowledged write must
 * be present or causally superseded).
 */
export const eventualKv: WorkloadDefinition<EventualKvOptions> = {
  name: 'eventual-kv',
  description:
    'eventual GET/PUT with R/W on independent keys: linearizability (expected to fail when weak) and convergence',
  options: eventualKvOptions as z.ZodType<EventualKvOptions>,
  build(options, ctx) {
    const log = new KeyLog();
    const weights = [options.mix.read, options.mix.write];
    const generator = independentKeys<QuorumOp>(
      { prefix: 'e', activeKeys: options.activeKeys, opsPerKey: options.opsPerKey, log },
      (key, n, c) => {
        if (pickWeighted(c.rng.float(), weights) === 0) {
          return { op: withQuorum({ f: 'read', key }, options) };
        }
        return { op: withQuorum({ f: 'write', key, value: n + 1 }, options), wrote: n + 1 };
      },
    );
    const system = ctx.system;
    const client = requireClient(system.clients, 'kv', system.name, 'eventual-kv');
    // The kv API says how the system resolves concurrent writes (last write wins by default).
    const conflict = client.conflict?.(ctx.settings ?? {}) ?? 'lww';
    return {
      generator,
      client,
      checkedPerKey: true,
      checkers: [
        linearizabilityChecker('kv', null, { select: asRegisterOps }),
        convergenceChecker(conflict),
        statsChecker,
      ],
      check: { model: 'kv', initial: null },
      ...eventualFinalPhase(options, ctx, log, {
        workload: 'eventual-kv',
        replicaClient: 'replica-kv',
      }),
    };
  },
};
