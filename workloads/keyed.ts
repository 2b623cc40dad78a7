import type { Op } from '../core/client.js';
import type { Gen, GenContext } from '../core/generator.js';
import type { SystemDefinition } from '../core/system.js';
import { each, empty, just } from '../generators/index.js';

/**
 * The keys a workload's generator has opened so far, in order. The one piece of state shared
 * between a run's main generator and its final reads (which read every key the run touched);
 * one log per built workload, so a fresh build starts empty.
 */
export class KeyLog {
  private readonly opened: string[] = [];
  private readonly seen = new Set<string>();
  add(key: string): void {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.opened.push(key);
  }
  get keys(): readonly string[] {
    return this.opened;
  }
}

export interface IndependentKeysOptions {
  /** Key names are `${prefix}${i}`, i = 0, 1, 2, ... */
  prefix: string;
  /** Keys in use at a time (each op picks one at random). */
  activeKeys: number;
  /** Ops a key gets before it is retired for a fresh one (Infinity: never). */
  opsPerKey: number;
  log?: KeyLog;
}

/** What `make` returns: the op, and the value it writes to its key if any (kept as recent). */
export interface KeyedOp<T> {
  op: T;
  wrote?: unknown;
}

/** How many of a key's latest written values `make` is shown. */
export const RECENT = 4;

interface Slot {
  key: number;
  ops: number;
  /** Latest written values on the key, newest last. */
  recent: readonly unknown[];
}

/**
 * Ops on independent keys, as Jepsen's independent generator: `activeKeys` keys at a time, each
 * given at most `opsPerKey` ops, after which it is replaced by a fresh key never used before; so
 * every per-key history stays small. `make(key, n, ctx, recent)` builds the op; `n` counts the
 * ops of the whole run (0, 1, 2, ...: one generator value is shared by every worker), so ops
 * that write `n`-derived values write unique values; `recent` holds the key's latest written
 * values (for a cas's expected value or a remove's element).
 */
export function independentKeys<T>(
  options: IndependentKeysOptions,
  make: (key: string, n: number, ctx: GenContext, recent: readonly unknown[]) => KeyedOp<T>,
): Gen<T> {
  const { prefix, activeKeys, opsPerKey, log } = options;
  const from = (slots: readonly Slot[], fresh: number, n: number): Gen<T> => ({
    next(ctx) {
      const i = ctx.rng.int(0, slots.length - 1);
      const slot = slots[i] as Slot;
      const key = `${prefix}${slot.key}`;
      log?.add(key);
      const made = make(key, n, ctx, slot.recent);
      const next = slots.slice();
      const used = slot.ops + 1;
      const retire = used >= opsPerKey;
      next[i] = retire
        ? { key: fresh, ops: 0, recent: [] }
        : {
            key: slot.key,
            ops: used,
            recent: 'wrote' in made ? [...slot.recent, made.wrote].slice(-RECENT) : slot.recent,
          };
      return {
        kind: 'op',
        op: made.op,
        at: ctx.time,
        next: from(next, retire ? fresh + 1 : fresh, n + 1),
      };
    },
  });
  const initial = Array.from(
    { length: activeKeys },
    (_, k): Slot => ({ key: k, ops: 0, recent: [] }),
  );
  return from(initial, activeKeys, 0);
}

/**
 * Final client reads of every key in `log` (as it stands when the final phase starts):
 * `{ everyKey: r }`: workers 0..r-1 (one per node) each read every key;
 * `{ spread: threads }`: each key is read once, the keys dealt round-robin over the workers.
 */
export function finalReads(
  log: KeyLog,
  how: { everyKey: number } | { spread: number },
  read: (key: string) => Op,
): Gen<Op> {
  let keys: readonly string[] | undefined;
  return each((t) => {
    keys ??= [...log.keys];
    if ('everyKey' in how) return t < how.everyKey ? just(...keys.map(read)) : empty<Op>();
    return just(...keys.filter((_, i) => i % how.spread === t).map(read));
  });
}

/** The index chosen by a uniform x in [0, 1) among relative weights. */
export function pickWeighted(x: number, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = x * total;
  for (let i = 0; i < weights.length; i++) {
    if (r < (weights[i] as number)) return i;
    r -= weights[i] as number;
  }
  return weights.length - 1;
}

/**
 * The client API a workload needs from the system, or an error naming both (and what the
 * system offers), raised while the run is prepared: before anything starts.
 */
export function requireClient<T>(
  clients: Readonly<Record<string, T>>,
  name: string,
  system: string,
  workload: string,
): T {
  const c = clients[name];
  if (c === undefined) {
    const offered = Object.keys(clients).sort().join(', ') || 'none';
    throw new Error(
      `the ${workload} workload needs the ${name} client API; system ${system} does not offer it (it offers: ${offered})`,
    );
  }
  return c;
}

/**
 * The system's replication factor for this run (its `replicationFactor` hook; without one,
 * every node holds every key), checked against the node count. The final replica reads ask
 * every node. When the replica reader names each key's owners (`keyOwners`), a key is judged
 * among its owners, so any node count from the replication factor up works. Without owners the
 * checkers take a key missing on a node as that replica being empty, so every node must hold
 * every key: with fewer replicas than nodes every run would report divergence that is only
 * placement, and that is refused up front.
 */
export function fullReplication(
  system: Pick<SystemDefinition, 'name' | 'replicationFactor'>,
  settings: Readonly<Record<string, string>> | undefined,
  nodes: number,
  workload: string,
  keyOwners = false,
): number {
  const n = system.replicationFactor?.(settings ?? {}, nodes) ?? nodes;
  if (keyOwners && n >= 1 && n <= nodes) return n;
  if (keyOwners) {
    throw new Error(
      `the ${workload} workload needs at least as many nodes as copies of each key: ` +
        `system ${system.name} replicates each key to ${n} nodes with these settings, and the run has ${nodes}`,
    );
  }
  if (n !== nodes) {
    throw new Error(
      `the ${workload} workload reads every node's replica at the end and needs every node to hold every key ` +
        `(its replica reads do not name each key's owners): ` +
        `system ${system.name} replicates each key to ${n} of ${nodes} nodes with these settings; ` +
        `run ${n} nodes (--nodes ${n}) or change the system's replication setting`,
    );
  }
  return n;
}
