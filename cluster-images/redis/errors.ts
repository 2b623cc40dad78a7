import { ReplyError } from 'ioredis';
import { ErrorRegistry, hasCode, OpError, readFailureRules } from '../../core/client.js';

/**
 * Nothing was written to redis: no sentinel named a primary, the connection to it could not be
 * made, or the node named was not a primary when asked (ROLE). The op certainly did not happen.
 */
export class NotSent extends OpError {
  constructor(
    message: string,
    readonly reason?: unknown,
  ) {
    super('not-sent', reason === undefined ? message : `${message}: ${describe(reason)}`);
  }
}

/** The cas script found another value (it returned 0): nothing was written. */
export class CasFailed extends OpError {
  constructor() {
    super('cas-failed', 'the value was not the expected one (the script returned 0)');
  }
}

/**
 * A write the primary applied and acknowledged, after which `WAIT` counted fewer replicas
 * than asked (or failed). The write happened on the primary but is not known replicated: if
 * that primary is demoted now, the write is lost; if not, it stays. Neither is certain: info.
 */
export class NotReplicated extends OpError {
  constructor(message: string) {
    super('not-replicated', message);
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An error reply of redis (ioredis types its class as any). */
export const isReplyError = (e: unknown): e is Error => e instanceof ReplyError;

/** The code an error reply starts with (`-READONLY You can't write...`: READONLY). */
const replyCode = (e: unknown): string | undefined =>
  isReplyError(e) ? /^[A-Z]+/.exec(e.message)?.[0] : undefined;

/**
 * Error replies redis sends instead of running the command, because of the node's state
 * rather than the command: the op did not happen, and the cause is an unavailable primary.
 * READONLY: the node is a replica (a client that reached a demoted primary, or one pinned to a
 * replica). NOREPLICAS: `min-replicas-to-write` not met, checked before the command runs (in a
 * script: at its write, after nothing but the GET). LOADING: the dataset is still loading.
 * MASTERDOWN: a replica cut from its primary with `replica-serve-stale-data no`.
 */
const REFUSED_UNAVAILABLE = new Set(['READONLY', 'NOREPLICAS', 'LOADING', 'MASTERDOWN']);
/**
 * Error replies for a command refused as a whole before it ran: BUSY (a script is running),
 * MISCONF (persistence failing: writes refused), OOM (maxmemory), WRONGTYPE, NOSCRIPT.
 */
const REFUSED = new Set(['BUSY', 'MISCONF', 'OOM', 'WRONGTYPE', 'NOSCRIPT']);

const isOutage = (e: unknown) => {
  const code = replyCode(e);
  return code === undefined || REFUSED_UNAVAILABLE.has(code);
};

/**
 * How each answer of redis is recorded (rules in order; anything no rule matches is `info`).
 *
 * | answer | write / cas / add / remove | read |
 * | --- | --- | --- |
 * | not sent: no sentinel named a primary, connection refused or not made, the named node's ROLE not master | `fail`, unavailable | `fail`, unavailable |
 * | cas script returned 0 (value not `from`) | `fail` | — |
 * | `-READONLY` (a replica), `-NOREPLICAS` (min-replicas-to-write), `-LOADING`, `-MASTERDOWN` | `fail`, unavailable: refused before running | `fail`, unavailable |
 * | `-BUSY`, `-MISCONF`, `-OOM`, `-WRONGTYPE`, `-NOSCRIPT` | `fail`: refused before running | `fail` |
 * | `WAIT` counted fewer replicas than asked, or failed | `info`: applied on the primary, not known replicated (lost if it is demoted) | — |
 * | connection dropped, reset or timed out after the command was written; any other error reply (e.g. a script error) | `info` | `fail`, unavailable (the op's own timeout: `info`) |
 */
export const redisErrors = new ErrorRegistry([
  {
    // Before the fail rules: a reply error inside WAIT must not read as a refused write.
    name: 'not known replicated',
    type: 'info',
    match: (e) => e instanceof NotReplicated,
  },
  {
    name: 'cas precondition failed',
    type: 'fail',
    match: (e) => e instanceof CasFailed,
  },
  ...readFailureRules(isOutage),
  {
    name: 'not sent',
    type: 'fail',
    unavailable: true,
    match: (e) => e instanceof NotSent || hasCode(e, 'ECONNREFUSED'),
  },
  {
    name: 'refused, unavailable',
    type: 'fail',
    unavailable: true,
    match: (e) => REFUSED_UNAVAILABLE.has(replyCode(e) ?? ''),
  },
  {
    name: 'refused',
    type: 'fail',
    match: (e) => REFUSED.has(replyCode(e) ?? ''),
  },
  {
    name: 'unknown op',
    type: 'fail',
    match: (e) => e instanceof OpError && e.code === 'unsupported',
  },
]);
