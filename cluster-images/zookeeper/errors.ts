import { ErrorRegistry, OpError, readFailureRules } from '../../core/client.js';
import { ProtocolError } from './protocol.js';
import { ConnectionLost, NotSent, ZkCode, ZkReplyError } from './session.js';

/** The cas's precondition did not hold: the value read was not `from`; nothing was written. */
export class CasFailed extends OpError {
  constructor(actual: unknown) {
    super('cas-failed', `the value was ${JSON.stringify(actual)}, not the expected one`);
  }
}

const replyCode = (e: unknown) => (e instanceof ZkReplyError ? e.code : undefined);
const codeIn =
  (...codes: number[]) =>
  (e: unknown) => {
    const c = replyCode(e);
    return c !== undefined && codes.includes(c);
  };

/** The server could not serve (no session, connection gone, no quorum in time). */
const isOutage = (e: unknown) =>
  e instanceof NotSent ||
  e instanceof ConnectionLost ||
  codeIn(
    ZkCode.connectionLoss,
    ZkCode.operationTimeout,
    ZkCode.sessionExpired,
    ZkCode.requestTimeout,
    ZkCode.throttled,
  )(e);

/**
 * How each outcome of a ZooKeeper request is recorded (rules in order; anything no rule matches
 * is `info`). "Sent" means the op's own request (setData for write and cas, create / delete for
 * the set) was written to the socket; everything before it (connecting, the session handshake,
 * creating the key's znode, the cas's getData) changes no register value.
 *
 * | outcome | write / cas / add / remove | read |
 * | --- | --- | --- |
 * | cas: the value read ≠ `from` | `fail` (nothing written) | — |
 * | BadVersion (-103) on the cas's setData | `fail`: the znode changed after the getData; ZooKeeper refused the write | — |
 * | not sent: no connection, handshake refused or timed out, session already lost, a step before the op's own request failed, aborted before sending | `fail`, unavailable | `fail`, unavailable |
 * | NoNode (-101) on setData | `fail`: nothing to write to, nothing written | read → `null` (not an error) |
 * | NotReadOnly (-119): a read-only server refuses writes | `fail`, unavailable | — |
 * | Throttled (-127): refused at the door | `fail`, unavailable | `fail`, unavailable |
 * | BadArguments (-8), NoAuth (-102), InvalidACL (-114), AuthFailed (-115), Unimplemented (-6), MarshallingError (-5), APIError (-100), QuotaExceeded (-125), SessionMoved (-118): refused before a transaction is proposed | `fail` | `fail` |
 * | ConnectionLoss (-4): the connection ended with the request outstanding (closed, reset, nothing read for 2/3 of the session timeout) | `info`: it may have been proposed and committed | `fail`, unavailable |
 * | OperationTimeout (-7), SessionExpired (-112) while outstanding, RequestTimeout (-122), SystemError (-1), RuntimeInconsistency (-2), DataInconsistency (-3), a malformed reply | `info` | `fail` (timeouts: unavailable) |
 * | the op's own timeout (signal aborted) after sending | `info` | `info` |
 *
 * NodeExists (-110) is no outcome of an op: creating a key's znode when absent is a step before
 * the op (NodeExists there just means it is there), and an `add` that finds its element's znode
 * there already is `ok` (the element is in the set).
 */
export const zookeeperErrors = new ErrorRegistry([
  {
    name: 'cas precondition failed',
    type: 'fail',
    match: (e) => e instanceof CasFailed,
  },
  {
    name: 'bad version',
    type: 'fail',
    match: codeIn(ZkCode.badVersion),
  },
  ...readFailureRules(isOutage),
  {
    name: 'not sent',
    type: 'fail',
    unavailable: true,
    match: (e) => e instanceof NotSent,
  },
  {
    name: 'no node',
    type: 'fail',
    match: codeIn(ZkCode.noNode),
  },
  {
    name: 'refused',
    type: 'fail',
    unavailable: true,
    match: codeIn(ZkCode.notReadOnly, ZkCode.throttled),
  },
  {
    name: 'rejected',
    type: 'fail',
    match: codeIn(
      ZkCode.badArguments,
      ZkCode.noAuth,
      ZkCode.invalidACL,
      ZkCode.authFailed,
      ZkCode.unimplemented,
      ZkCode.marshallingError,
      ZkCode.apiError,
      ZkCode.quotaExceeded,
      ZkCode.sessionMoved,
    ),
  },
  {
    name: 'connection loss',
    type: 'info',
    match: (e) => e instanceof ConnectionLost || codeIn(ZkCode.connectionLoss)(e),
  },
  {
    name: 'malformed reply',
    type: 'info',
    match: (e) => e instanceof ProtocolError,
  },
  {
    name: 'unknown op',
    type: 'fail',
    match: (e) => e instanceof OpError && e.code === 'unsupported',
  },
]);
