import type { Key } from '../checker/history/event.js';
import type { HostPort, NodeId } from './cluster.js';

/** What a generator produces for a client: the operation as it is recorded on invoke. */
export interface Op {
  f: string;
  key?: Key;
  value?: unknown;
}

/**
 * Per-op quorum overrides an eventual op may carry (a read's `r`, a write's `w`), for systems
 * whose clients take them. They ride on the op object, not in
 * the history: they are the workload's options, recorded in test.json with the spec.
 */
export interface QuorumOp extends Op {
  r?: number;
  w?: number;
}

/** An operation that happened (`ok`), with the value it returned (a read's value). */
export interface OkResult {
  value?: unknown;
  /** Extra fields recorded on the completion (e.g. a system's timestamps). */
  extra?: Record<string, unknown>;
}

/**
 * A client for one node, used by one worker at a time (single-threaded: one op in flight).
 * `invoke` resolves when the op happened and throws otherwise; what the error means (certainly
 * not applied, or unknown) is decided by the client's error registry, never by the runner.
 * `signal` aborts the op (the op timeout, or the run stopping): the outcome is then unknown.
 * The same signal may serve a few successive ops of the worker (never one after it aborted): a
 * listener added to it should be removed when the op ends (node:http does this for its own), and
 * its state means something only while the op is in flight.
 */
export interface Client<O extends Op = Op> {
  invoke(op: O, signal: AbortSignal): Promise<OkResult>;
  close(): Promise<void>;
}

/** How concurrent writes to one key end up: the last write wins, or all are kept as siblings. */
export type ConflictMode = 'lww' | 'siblings';

/**
 * What a client is told of the run beside its own node: the run's system settings (as given,
 * text: a client option such as Redis's `wait` lives there), and every node with its client
 * address (a client that follows the leader, or asks a sentinel, needs the others).
 */
export interface ClientContext {
  settings: Readonly<Record<string, string>>;
  nodes: readonly NodeId[];
  clientAddress(node: NodeId): HostPort;
}

/** How a system's clients are made and their errors classified. */
export interface ClientFactory<O extends Op = Op> {
  /** A client bound to `node` (its completions record that node); opening must not throw. */
  open(node: NodeId, address: HostPort, context: ClientContext): Client<O>;
  errors: ErrorRegistry;
  /**
   * The `kv` API only: how the system resolves concurrent writes to a key with these settings
   * (the convergence checker judges lost writes by it). Absent: `lww`.
   */
  conflict?(settings: Readonly<Record<string, string>>): ConflictMode;
  /**
   * The `replica-*` APIs only: every key in a replica-read answer carries `owners`, the nodes
   * that own it (see CLIENT_APIS). Then each key is judged among its owners and the eventual
   * workloads run on any number of nodes from the replication factor up. Absent: every node is
   * taken to hold every key, which needs as many nodes as the replication factor.
   */
  keyOwners?: boolean;
}

/**
 * The client APIs a workload asks a system for, by name. A system offers some of them
 * (`defineSystem({ clients: {...} })`); a workload whose API the system lacks is refused before
 * anything starts. Every op's answer is recorded `ok` (it happened, with its value), `fail` (it
 * certainly did not) or `info` (unknown), as the API's error registry classifies the error.
 *
 * | API | ops (`{f, key, value}`) | ok value |
 * | --- | --- | --- |
 * | `register` | `read`; `write` v; `cas` [from, to] (fail when the value is not `from`) — linearizable | read: the value, null when absent |
 * | `kv` | `read`; `write` v, with optional `r` / `w` quorums (QuorumOp) — eventual | read: the array of values (siblings), [] when absent |
 * | `set` | `add` e; `remove` e; `read` (optional `r` / `w`) | read: the array of elements |
 * | `counter` | `add` delta (an integer); `read` (optional `r` / `w`) | read: the number |
 * | `replica-kv` | `replica-read` {node, round}: one node's own replica, no coordination | `{node, round, keys: {key: {values, ts?, owners?}}}` |
 * | `replica-set` | as `replica-kv` | `{..., keys: {key: {elements, owners?}}}` |
 * | `replica-counter` | as `replica-kv` | `{..., keys: {key: {value, owners?}}}` |
 * | `list-append` | `txn` with value `[[f, k, v], ...]`: `[append k v]`, `[r k nil]`, applied as one transaction | the micro-ops, each read's `nil` replaced by the list read ([] when absent) |
 * | `rw-register` | `txn` as `list-append`, with `[w k v]` for writes | the micro-ops, each read's `nil` replaced by the value read (null when absent) |
 *
 * `owners` (optional, the factory declares `keyOwners: true`): the nodes that own the key by
 * the answering node's view of placement. A node lists every key it stores or holds a hint
 * for, each with its owners; a key is then judged among the union of the owners claimed for
 * it: an owner that lists nothing for it holds the empty state (it lost the key), and a
 * non-owner's copy (a hint, a leftover) is not judged. A key named by no node is empty on all
 * of them. Without `owners` every node holds every key.
 */
export const CLIENT_APIS = [
  'register',
  'kv',
  'set',
  'counter',
  'replica-kv',
  'replica-set',
  'replica-counter',
  'list-append',
  'rw-register',
] as const;
export type ClientApi = (typeof CLIENT_APIS)[number];

/** `fail`: the op certainly did not take effect. `info`: it may have, now or later. */
export type ErrorClass = 'fail' | 'info';

export interface ErrorRule {
  /** Recorded as the completion's `error`. */
  name: string;
  type: ErrorClass;
  /**
   * For a `fail`: the system refused for want of nodes (connection refused, too few replicas
   * reachable), not a definite answer such as a cas whose precondition did not hold. Recorded
   * as `unavailable: true` on the completion; availability counts such ops as outages.
   */
  unavailable?: boolean;
  match(error: unknown): boolean;
}

export interface Classified {
  type: ErrorClass;
  error: string;
  /** The matching rule says `unavailable` (see ErrorRule). */
  unavailable?: true;
}

/** An error a client raises on purpose, with a code its registry knows. */
export class OpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OpError';
  }
}

/**
 * A read that failed in any way: recorded `fail`, because a read changes nothing, so "not
 * applied" is true whatever happened to it (`reason` is what happened). Not for a read its op's
 * own signal aborted: that is the op's timeout, recorded `info` like every other.
 */
export class ReadFailed extends OpError {
  constructor(readonly reason: unknown) {
    super('read-failed', reason instanceof Error ? reason.message : String(reason));
  }
}

/** Runs a read: any failure but the op's own abort becomes a ReadFailed. */
export async function failedRead<T>(signal: AbortSignal, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (signal.aborted) throw e;
    throw new ReadFailed(e);
  }
}

/**
 * The rules recording a ReadFailed: `fail`, and unavailable when `outage(reason)` says the
 * system could not serve it (as opposed to a definite answer such as a bad request).
 */
export function readFailureRules(outage: (reason: unknown) => boolean): ErrorRule[] {
  return [
    {
      name: 'read failed',
      type: 'fail',
      unavailable: true,
      match: (e) => e instanceof ReadFailed && outage(e.reason),
    },
    { name: 'read failed', type: 'fail', match: (e) => e instanceof ReadFailed },
  ];
}

export function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code)
      ? `${code}: ${error.message}`
      : error.message;
  }
  return String(error);
}

/**
 * One registry per client: the rules that say which errors are definite (`fail`). Anything no
 * rule matches is `info`: when in doubt, the outcome is unknown (claiming `fail` for an op that
 * took effect would make the checker report false anomalies).
 */
export class ErrorRegistry {
  constructor(readonly rules: readonly ErrorRule[]) {}

  classify(error: unknown): Classified {
    if (error instanceof OpTimeout) return { type: 'info', error: 'timeout' };
    if (error instanceof RunStopped) return { type: 'info', error: 'aborted: the run stopped' };
    for (const rule of this.rules) {
      if (rule.match(error)) {
        const c: Classified = { type: rule.type, error: `${rule.name}: ${describe(error)}` };
        if (rule.unavailable === true) c.unavailable = true;
        return c;
      }
    }
    return { type: 'info', error: describe(error) };
  }
}

/** The reason an op's signal is aborted when it ran past the op timeout. */
export class OpTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'OpTimeout';
  }
}

/** The reason an op's signal is aborted when the run is stopping (Ctrl-C, an error). */
export class RunStopped extends Error {
  constructor() {
    super('the run stopped');
    this.name = 'RunStopped';
  }
}

/**
 * A client context from a fixed table of node addresses (settings: none unless given), for a
 * client opened outside a run: a system's own tests, a benchmark.
 */
export function fixedClientContext(
  addresses: Readonly<Record<NodeId, HostPort>>,
  settings: Readonly<Record<string, string>> = {},
): ClientContext {
  return {
    settings,
    nodes: Object.keys(addresses),
    clientAddress(node) {
      const a = addresses[node];
      if (a === undefined) throw new Error(`no address for node ${node}`);
      return a;
    },
  };
}
