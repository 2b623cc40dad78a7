import { claimedOwners, OwnerUnion } from '../checker/replica-owners.js';
import type { Client, ErrorRegistry, Op } from '../core/client.js';
import { OpTimeout, RunStopped } from '../core/client.js';
import type { NodeId } from '../core/cluster.js';
import type { EventSink } from './interpreter.js';

/**
 * The final convergence phase (issue 7's contract): every node's replica is read directly, all
 * nodes at once in one round, rounds a short pause apart, until the replicas agree on every key
 * for `stableRounds` rounds in a row (same states each time) or the bound runs out. Each read is
 * a client op in the history:
 *
 *   invoke {f: "replica-read", value: {node, round}}
 *   ok     {f: "replica-read", node, value: {node, round, keys: {<key>: <state>}}}
 *
 * (`fail`/`info` with the error otherwise). Node i reads as process `firstProcess + i`; after an
 * `info` that process is retired for `+ nodes.length`, as the interpreter does.
 */
export interface ReplicaReadsOptions {
  nodes: readonly NodeId[];
  /** The replica reader for `node` (already open). */
  client(node: NodeId): Client<Op>;
  errors: ErrorRegistry;
  sink: EventSink;
  /** A process id above every client process of the run. */
  firstProcess: number;
  /** Stop polling after this long (ms) even if the replicas still disagree. */
  boundMs: number;
  /**
   * How many nodes hold each key once converged (fewer: not converged yet); a key whose reads
   * name its owners is held by those.
   */
  replicasPerKey: number;
  /** Per-read bound (ms); a slower read is `info`. */
  opTimeoutMs: number;
  /** Agreeing rounds in a row, with the same states, that end the phase (default 2). */
  stableRounds?: number;
  /** Pause between rounds (default 250 ms). */
  pauseMs?: number;
  signal?: AbortSignal;
}

export interface ReplicaReadsOutcome {
  rounds: number;
  /** The last round agreed (and the ones before it, `stableRounds` in all). */
  converged: boolean;
  /** Keys the last round disagreed on (empty when converged). */
  disagreeing: string[];
}

type Keys = Record<string, unknown>;

/**
 * JSON with object keys sorted and arrays of set-like fields sorted: equal states, equal text.
 * A key's `owners` is not part of its state.
 */
export function canonicalState(state: unknown): string {
  if (typeof state === 'object' && state !== null && 'owners' in state) {
    const { owners: _owners, ...rest } = state as Keys;
    return JSON.stringify(normalise(rest));
  }
  return JSON.stringify(normalise(state));
}

function normalise(v: unknown, field?: string): unknown {
  if (Array.isArray(v)) {
    const items = v.map((x) => normalise(x));
    // Siblings and set elements are unordered; lww `ts` is parallel to its single value.
    if (field === 'values' || field === 'elements') {
      return items
        .map((x) => [JSON.stringify(x), x] as const)
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([, x]) => x);
    }
    return items;
  }
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = normalise((v as Keys)[k], k);
    return out;
  }
  return v;
}

/**
 * Whether one round's reads (by position in `nodes`) agree: every node answered, and every key
 * some node lists is held, all with the same state, by
 * - its owners, when any node names them (the union of the owners named; replica-owners.ts):
 *   a non-owner's copy is ignored, and an owner that lacks the key has not caught up yet;
 * - otherwise at least `replicasPerKey` nodes.
 * Returns the disagreeing keys and, when they agree, a fingerprint of the states (to tell a
 * stable agreement from a moving one).
 */
export function agreement(
  reads: readonly (Keys | undefined)[],
  replicasPerKey: number,
  nodes: readonly NodeId[],
): { agree: boolean; disagreeing: string[]; fingerprint: string } {
  if (reads.some((r) => r === undefined)) return { agree: false, disagreeing: [], fingerprint: '' };
  const byKey = new Map<string, Map<NodeId, string>>();
  const owners = new OwnerUnion();
  (reads as Keys[]).forEach((keys, i) => {
    const node = nodes[i] ?? String(i);
    for (const [key, state] of Object.entries(keys)) {
      let states = byKey.get(key);
      if (states === undefined) {
        states = new Map();
        byKey.set(key, states);
      }
      states.set(node, canonicalState(state));
      const claimed = claimedOwners(state);
      if (claimed) owners.add(key, claimed);
    }
  });
  const disagreeing: string[] = [];
  const parts: string[] = [];
  for (const [key, states] of [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const owned = owners.byKey.get(key);
    let held: Array<string | undefined>;
    if (owned !== undefined && owned.size > 0) held = [...owned].map((o) => states.get(o));
    else {
      held = [...states.values()];
      if (held.length < Math.min(replicasPerKey, reads.length)) held.push(undefined);
    }
    const first = held[0];
    if (first === undefined || held.some((s) => s !== first)) disagreeing.push(key);
    else parts.push(`${JSON.stringify(key)}:${first}`);
  }
  return { agree: disagreeing.length === 0, disagreeing, fingerprint: parts.join(',') };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** Polls every node's replica in rounds until they agree (stably) or the bound runs out. */
export async function finalReplicaReads(
  options: ReplicaReadsOptions,
): Promise<ReplicaReadsOutcome> {
  const { nodes, sink, errors, signal } = options;
  const stableRounds = options.stableRounds ?? 2;
  const pauseMs = options.pauseMs ?? 250;
  const processes = nodes.map((_, i) => options.firstProcess + i);
  const started = sink.now();
  let round = 0;
  let streak = 0;
  let lastFingerprint: string | undefined;
  let disagreeing: string[] = [];

  const readOne = async (i: number): Promise<Keys | undefined> => {
    const node = nodes[i] as NodeId;
    const process = processes[i] as number;
    sink.record({ process, type: 'invoke', f: 'replica-read', value: { node, round } });
    const ctl = new AbortController();
    const timer = setTimeout(
      () => ctl.abort(new OpTimeout(options.opTimeoutMs)),
      options.opTimeoutMs,
    );
    const onStop = () => ctl.abort(new RunStopped());
    signal?.addEventListener('abort', onStop, { once: true });
    try {
      const r = await options
        .client(node)
        .invoke({ f: 'replica-read', value: { node, round } }, ctl.signal);
      const value = r.value as { keys?: unknown } | undefined;
      const keys = (
        typeof value?.keys === 'object' && value.keys !== null ? value.keys : {}
      ) as Keys;
      sink.record({ process, type: 'ok', f: 'replica-read', node, value: { node, round, keys } });
      return keys;
    } catch (e) {
      const c = errors.classify(ctl.signal.aborted ? ctl.signal.reason : e);
      sink.record({
        process,
        type: c.type,
        f: 'replica-read',
        node,
        value: { node, round },
        error: c.error,
      });
      if (c.type === 'info') processes[i] = process + nodes.length;
      return undefined;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onStop);
    }
  };

  for (;;) {
    if (signal?.aborted) break;
    round++;
    const reads = await Promise.all(nodes.map((_, i) => readOne(i)));
    const a = agreement(reads, options.replicasPerKey, nodes);
    disagreeing = a.disagreeing;
    if (a.agree) {
      streak = a.fingerprint === lastFingerprint ? streak + 1 : 1;
      lastFingerprint = a.fingerprint;
      if (streak >= stableRounds) return { rounds: round, converged: true, disagreeing: [] };
    } else {
      streak = 0;
      lastFingerprint = undefined;
    }
    if ((sink.now() - started) / 1e6 + pauseMs >= options.boundMs) break;
    await sleep(pauseMs, signal);
  }
  return { rounds: round, converged: false, disagreeing };
}
