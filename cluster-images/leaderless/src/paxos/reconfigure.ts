/**
 * Changing a CASPaxos acceptor set one acceptor at a time, by the procedure of the CASPaxos
 * paper (Rystsov 2018, "Cluster membership change"), with every step explicit:
 *
 * - a **plan** (`planAdd`, `planRemove`) is a list of steps: `install` a configuration on every
 *   proposer, or `rewrite` every key (the identity change x → x through prepare and accept, so
 *   each key's latest value reaches an accept quorum of the configuration then installed);
 * - the **driver** (`applyPlan`) runs the steps in order; a step starts only after the previous
 *   one finished everywhere (every proposer acknowledged the configuration; every key was
 *   rewritten with a positive outcome).
 *
 * Two rules make it safe. (1) Proposers on neighbouring configurations run at the same time, so
 * any prepare quorum of either must meet any accept quorum of either (`compatible`; checked for
 * every plan). (2) Every plan starts from, and ends in, the state "each key's latest value is
 * held by a majority of the current acceptors"; the rewrite steps re-establish it where a step
 * would otherwise break it for the next change. Without them (`unsafeSkipRewrite`) a sequence
 * of changes can leave a value on too few acceptors, or on none (e.g. replacing every acceptor
 * in turn), and acknowledged writes are lost.
 *
 * Not wired to the ring or an admin API yet: the caller provides the proposers (anything that
 * can `install` a configuration, e.g. a `ProposerConfiguration` read by `Proposer.propose`
 * through `ProposeRequest.configuration`), the keys, and a rewrite function.
 */
import type { Change, NodeId } from '../replica/types.js';
import type { ProposeRequest, Proposer } from './proposer.js';
import {
  type AcceptorConfig,
  checkPhase,
  compatible,
  majority,
  majorityConfig,
} from './quorums.js';

export type StepName =
  /** add, odd → even: accepts go to all 2F+2 and need F+2; prepares stay with the old 2F+1 (F+1). */
  | 'widen-accept'
  /** add, odd → even, after the rewrite: prepares go to all 2F+2 and need F+2. */
  | 'widen-prepare'
  /** add, even → odd: both phases to all 2F+3, F+2 each (the new acceptor "was down so far"). */
  | 'widen-both'
  /** remove, even → odd: prepares go to the remaining 2F+1 (F+1); accepts still to all 2F+2 (F+2). */
  | 'narrow-prepare'
  /** remove, even → odd, after the rewrite: accepts go to the remaining 2F+1 (F+1). */
  | 'narrow-accept'
  /** remove, odd → even: both phases to the remaining 2F+2, F+2 each (the removed one is "down"). */
  | 'narrow-both';

export type ReconfigStep =
  | { kind: 'install'; name: StepName; config: AcceptorConfig }
  /** Identity change on every key, through proposers using `config` (the last one installed). */
  | { kind: 'rewrite'; config: AcceptorConfig };

export interface ReconfigPlan {
  change: { kind: 'add' | 'remove'; acceptor: NodeId };
  from: AcceptorConfig;
  to: AcceptorConfig;
  steps: ReconfigStep[];
  /** Acceptors that may be stopped (and their data discarded) once every step is done. */
  retire: NodeId[];
}

export interface PlanOptions {
  /**
   * UNSAFE, for tests only: leave out the rewrite steps. Each single step is still a legal
   * quorum change, but keys written before it are not copied forward, so later changes lose
   * acknowledged values (see the simulator test).
   */
  unsafeSkipRewrite?: boolean;
}

function build(
  change: ReconfigPlan['change'],
  from: AcceptorConfig,
  parts: Array<{ name: StepName; config: AcceptorConfig } | 'rewrite'>,
  retire: NodeId[],
  options: PlanOptions,
): ReconfigPlan {
  const steps: ReconfigStep[] = [];
  let current = from;
  for (const part of parts) {
    if (part === 'rewrite') {
      if (!options.unsafeSkipRewrite) steps.push({ kind: 'rewrite', config: current });
      continue;
    }
    checkPhase(part.config.prepare);
    checkPhase(part.config.accept);
    if (!compatible(current, part.config)) {
      throw new Error(`step ${part.name}: its quorums do not meet those of the step before`);
    }
    steps.push({ kind: 'install', ...part });
    current = part.config;
  }
  return { change, from, to: current, steps, retire };
}

/**
 * Steps to add `acceptor` to `acceptors` (in steady state: majority quorums for both phases).
 * - 2F+1 → 2F+2: widen-accept, rewrite, widen-prepare;
 * - 2F+2 → 2F+3: widen-both (no rewrite needed: every plan leaves each key on a majority of the
 *   2F+2, i.e. F+2, which is a quorum of 2F+3).
 */
export function planAdd(
  acceptors: readonly NodeId[],
  acceptor: NodeId,
  options: PlanOptions = {},
): ReconfigPlan {
  if (acceptors.length === 0) throw new Error('cannot grow an empty acceptor set');
  if (acceptors.includes(acceptor)) throw new Error(`${acceptor} is already an acceptor`);
  const from = majorityConfig(acceptors);
  const grown = [...acceptors, acceptor];
  const change = { kind: 'add' as const, acceptor };
  if (acceptors.length % 2 === 1) {
    const widenAccept: AcceptorConfig = {
      prepare: from.prepare,
      accept: { acceptors: grown, quorum: majority(grown.length) },
    };
    return build(
      change,
      from,
      [
        { name: 'widen-accept', config: widenAccept },
        'rewrite',
        { name: 'widen-prepare', config: majorityConfig(grown) },
      ],
      [],
      options,
    );
  }
  return build(change, from, [{ name: 'widen-both', config: majorityConfig(grown) }], [], options);
}

/**
 * Steps to remove `acceptor` (the add procedure in reverse):
 * - 2F+2 → 2F+1: narrow-prepare, rewrite, narrow-accept;
 * - 2F+3 → 2F+2: narrow-both, rewrite (a value may now be on only F+1 of the 2F+2; the rewrite
 *   puts it back on F+2, which the next change needs).
 * The removed acceptor may be stopped once every step is done (`retire`).
 */
export function planRemove(
  acceptors: readonly NodeId[],
  acceptor: NodeId,
  options: PlanOptions = {},
): ReconfigPlan {
  if (!acceptors.includes(acceptor)) throw new Error(`${acceptor} is not an acceptor`);
  if (acceptors.length < 2) throw new Error('cannot remove the last acceptor');
  const from = majorityConfig(acceptors);
  const rest = acceptors.filter((a) => a !== acceptor);
  const change = { kind: 'remove' as const, acceptor };
  if (acceptors.length % 2 === 0) {
    const narrowPrepare: AcceptorConfig = {
      prepare: { acceptors: rest, quorum: majority(rest.length) },
      accept: from.accept,
    };
    return build(
      change,
      from,
      [
        { name: 'narrow-prepare', config: narrowPrepare },
        'rewrite',
        { name: 'narrow-accept', config: majorityConfig(rest) },
      ],
      [acceptor],
      options,
    );
  }
  return build(
    change,
    from,
    [{ name: 'narrow-both', config: majorityConfig(rest) }, 'rewrite'],
    [acceptor],
    options,
  );
}

/** A proposer, as the driver sees it. */
export interface ProposerEndpoint {
  /**
   * Make every phase this proposer sends from now on use `config`, and resolve once it does
   * (idempotent: the driver retries after a rejection).
   */
  install(config: AcceptorConfig): Promise<void> | void;
}

/**
 * The configuration one proposer uses: pass `configuration: () => slot.current` in its
 * `ProposeRequest`. Installing takes effect for the next phase of every running operation.
 */
export class ProposerConfiguration implements ProposerEndpoint {
  constructor(public current: AcceptorConfig) {}
  install(config: AcceptorConfig): void {
    this.current = config;
  }
}

/** The identity change x → x: keeps the value, and (like every read) re-accepts it. */
export const identity: Change = (current) => ({ next: current, applied: false });

/**
 * A `rewrite` for `applyPlan`: the identity change on `key` through `proposer`, whose request
 * must carry the configuration the driver installs (e.g. a `ProposerConfiguration` that is
 * also among the driver's proposers). True when an accept quorum took it.
 */
export function identityRewrite(
  proposer: Proposer,
  request: ProposeRequest,
): (key: string) => Promise<boolean> {
  return async (key) => (await proposer.propose(key, identity, request)).ok;
}

export interface ReconfigureEnv {
  /** Every proposer that may act on these keys; asked again for every attempt of every step. */
  proposers(): readonly ProposerEndpoint[];
  /** Every key any acceptor of the current configuration may hold (asked once per rewrite). */
  keys(): Iterable<string> | AsyncIterable<string>;
  /** The identity change on one key; true once an accept quorum of the installed configuration took it. */
  rewrite(key: string): Promise<boolean>;
  /** Attempts per install (on all proposers) and per key rewrite before giving up (default 20). */
  attempts?: number;
  /** Called when a step starts. */
  onStep?(index: number, step: ReconfigStep): void;
}

/** A step that could not be finished; the configuration is left at `step` − 1 (safe). */
export class ReconfigureError extends Error {
  constructor(
    readonly step: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Run `plan.steps` from `fromStep` (resume after a ReconfigureError by passing its `step`).
 * Throws ReconfigureError when a step keeps failing; the proposers then hold the last
 * configuration that was installed everywhere, or a mix of it and the failed step's (the two are
 * compatible), and rerunning from that step is safe.
 */
export async function applyPlan(
  plan: ReconfigPlan,
  env: ReconfigureEnv,
  fromStep = 0,
): Promise<void> {
  const attempts = env.attempts ?? 20;
  for (let i = fromStep; i < plan.steps.length; i++) {
    const step = plan.steps[i]!;
    env.onStep?.(i, step);
    if (step.kind === 'install') {
      let last: unknown;
      let done = false;
      for (let a = 0; a < attempts && !done; a++) {
        try {
          await Promise.all(env.proposers().map((p) => p.install(step.config)));
          done = true;
        } catch (e) {
          last = e;
        }
      }
      if (!done) throw new ReconfigureError(i, `install ${step.name} failed: ${String(last)}`);
      continue;
    }
    for await (const key of env.keys()) {
      let ok = false;
      for (let a = 0; a < attempts && !ok; a++) ok = await env.rewrite(key);
      if (!ok) throw new ReconfigureError(i, `rewrite of ${JSON.stringify(key)} did not finish`);
    }
  }
}
