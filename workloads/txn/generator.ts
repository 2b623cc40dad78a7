/**
 * Transactions for the list-append and rw-register workloads: each a short list of micro-ops
 * over a few active keys, `[append k v]` / `[w k v]` or `[r k nil]`. Values are unique across
 * the run (worker t's i-th write is i·threads + t + 1), so every read names the writes it saw.
 * Keys are retired as the run goes (a worker moves to fresh keys every `rotateAfter` txns), so
 * lists stay short; the first txn on fresh keys reads every key of the ones left behind.
 */
import type { Op } from '../../core/client.js';
import type { Gen } from '../../core/generator.js';
import { each } from '../../generators/index.js';

export interface TxnShape {
  /** `append` for list-append, `w` for rw-register. */
  write: 'append' | 'w';
  /** Keys in use at a time. */
  keys: number;
  minLength: number;
  maxLength: number;
  /** Chance that a micro-op is a read. */
  readFraction: number;
  /** Txns a worker runs before moving on to fresh keys. */
  rotateAfter: number;
}

export type MicroOp = [string, string, number | null];

/** The name of key slot `slot` in key generation `generation`. */
export const keyName = (generation: number, slot: number): string => `${generation}-${slot}`;

export function txnGenerator(shape: TxnShape): Gen<Op> {
  const perThread = (t: number): Gen<Op> => {
    const from = (txn: number, writes: number): Gen<Op> => ({
      next(c) {
        const generation = Math.floor(txn / shape.rotateAfter);
        let value: MicroOp[];
        let written = writes;
        if (generation > 0 && txn % shape.rotateAfter === 0) {
          // A closing read of every key this worker leaves behind.
          value = Array.from({ length: shape.keys }, (_, s) => [
            'r',
            keyName(generation - 1, s),
            null,
          ]);
        } else {
          value = [];
          const length = c.rng.int(shape.minLength, shape.maxLength);
          for (let i = 0; i < length; i++) {
            const key = keyName(generation, c.rng.int(0, shape.keys - 1));
            if (c.rng.float() < shape.readFraction) value.push(['r', key, null]);
            else value.push([shape.write, key, written++ * c.threads + t + 1]);
          }
        }
        return {
          kind: 'op',
          op: { f: 'txn', value },
          at: c.time,
          next: from(txn + 1, written),
        };
      },
    });
    return from(0, 0);
  };
  return each(perThread);
}
