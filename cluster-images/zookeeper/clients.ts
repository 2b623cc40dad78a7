import type { ClientFactory, Op } from '../../core/client.js';
import { failedRead, OpError } from '../../core/client.js';
import type { HostPort } from '../../core/cluster.js';
import { CasFailed, zookeeperErrors } from './errors.js';
import { OpCode, replies, requests } from './protocol.js';
import { NotSent, ZkCode, ZkReplyError, ZkSession } from './session.js';

/** Whether a read is a plain getData (ZooKeeper's default) or preceded by a `sync`. */
export type ZkReadMode = 'plain' | 'sync';

/** The session timeout the clients ask for, ms (the servers' tick of 500 ms allows 1-10 s). */
export const SESSION_TIMEOUT_MS = 4000;

/** The znode of register `key`: `/r/<key>` (the key URI-encoded: no `/` inside). */
export const registerPath = (key: string) => `/r/${encodeURIComponent(key)}`;
/** The znode under which every set's znode lives. */
const SETS_ROOT = '/s';
/** The znode whose children are set `key`'s elements: `/s/<key>`. */
export const setPath = (key: string) => `${SETS_ROOT}/${encodeURIComponent(key)}`;

/** A register value as stored: its JSON text; an empty znode holds null. */
const encodeValue = (v: unknown) => Buffer.from(v === null ? '' : JSON.stringify(v), 'utf8');
function decodeValue(data: Buffer): unknown {
  if (data.length === 0) return null;
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    throw new OpError(
      'bad-value',
      `a znode holds ${JSON.stringify(data.toString('utf8'))}, not JSON`,
    );
  }
}

const isCode = (e: unknown, code: number) => e instanceof ZkReplyError && e.code === code;

/**
 * A worker's connection to one server: one session at a time, opened when an op needs it, and
 * a new one (never the old requests again) once it is lost. The highest zxid seen carries over
 * to the next session, so a server behind what this client has seen refuses it.
 */
class SessionHolder {
  private session: ZkSession | undefined;
  private lastZxid = 0n;
  /** Znodes known to exist (nothing is ever deleted but set elements). */
  readonly made = new Set<string>();

  constructor(private readonly address: HostPort) {}

  async get(signal: AbortSignal): Promise<ZkSession> {
    if (this.session !== undefined && this.session.lost === undefined) return this.session;
    if (this.session !== undefined) this.lastZxid = this.session.lastZxid;
    this.session = await ZkSession.connect(
      this.address,
      {
        timeoutMs: SESSION_TIMEOUT_MS,
        connectTimeoutMs: SESSION_TIMEOUT_MS,
        lastZxidSeen: this.lastZxid,
      },
      signal,
    );
    return this.session;
  }

  async close(): Promise<void> {
    await this.session?.close();
  }
}

/**
 * Creates `path` (empty) unless it is known to exist; NodeExists is success. An empty znode
 * reads as null, so this changes no register's value: it is a step before the op, whose
 * outcome (even a lost reply) does not matter.
 */
async function ensureZnode(s: ZkSession, made: Set<string>, path: string, signal: AbortSignal) {
  if (made.has(path)) return;
  const parent = path.slice(0, path.lastIndexOf('/'));
  if (parent !== '') await ensureZnode(s, made, parent, signal);
  try {
    await s.request(
      'create',
      OpCode.create,
      (w) => requests.create(w, path, Buffer.alloc(0)),
      signal,
    );
  } catch (e) {
    if (!isCode(e, ZkCode.nodeExists)) throw e;
  }
  made.add(path);
}

/**
 * Runs `steps` (everything before the op's own request) and maps a failure there to NotSent:
 * the op's own request was never written, whatever happened to the steps. The op's own
 * signal aborting them stays what it is.
 */
async function beforeSending<T>(signal: AbortSignal, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (e) {
    if (e instanceof CasFailed) throw e;
    if (signal.aborted && e === signal.reason) throw e;
    if (e instanceof NotSent) throw e;
    throw new NotSent(
      `the op's request was not sent: ${e instanceof Error ? e.message : String(e)}`,
      e,
    );
  }
}

/** A read: `sync` first in sync mode, then `read`; any failure but the op's abort is ReadFailed. */
async function readWith<T>(
  s: () => Promise<ZkSession>,
  mode: ZkReadMode,
  path: string,
  signal: AbortSignal,
  read: (session: ZkSession) => Promise<T>,
): Promise<T> {
  return failedRead(signal, async () => {
    const session = await s();
    if (mode === 'sync') {
      const r = await session.request('sync', OpCode.sync, (w) => requests.sync(w, path), signal);
      replies.sync(r.rest);
    }
    return await read(session);
  });
}

/** A znode's children (getChildren); an absent znode has none. */
async function children(s: ZkSession, path: string, signal: AbortSignal): Promise<string[]> {
  try {
    const r = await s.request(
      'getChildren',
      OpCode.getChildren,
      (w) => requests.pathWatch(w, path),
      signal,
    );
    return replies.getChildren(r.rest);
  } catch (e) {
    if (isCode(e, ZkCode.noNode)) return [];
    throw e;
  }
}

/** A set element from its child znode's name (the element as JSON, URI-encoded). */
const decodeElement = (name: string): unknown => JSON.parse(decodeURIComponent(name));

/**
 * The `register` API on ZooKeeper, a znode per key (`/r/<key>`, its data the value as JSON
 * text, empty for null):
 * - `read` = getData (absent → null), after a `sync` of the path in sync mode;
 * - `write` v = setData with version -1;
 * - `cas` [from, to] = getData, then (value = from) setData with the version the getData's
 *   stat gave: BadVersion means another write came between, and nothing was written.
 * The key's znode is created empty before a write or cas when this client has not seen it yet
 * (value-neutral, see ensureZnode). The op's own request (setData) is sent once, never retried,
 * never re-sent on another session; classified by `zookeeperErrors`.
 */
export function zookeeperRegisterClient(reads: ZkReadMode = 'plain'): ClientFactory<Op> {
  return {
    errors: zookeeperErrors,
    open(_node, address) {
      const holder = new SessionHolder(address);
      return {
        async invoke(op, signal) {
          const path = registerPath(String(op.key ?? 'r'));
          switch (op.f) {
            case 'read':
              return readWith(
                () => holder.get(signal),
                reads,
                path,
                signal,
                async (session) => {
                  try {
                    const r = await session.request(
                      'getData',
                      OpCode.getData,
                      (w) => requests.pathWatch(w, path),
                      signal,
                    );
                    return { value: decodeValue(replies.getData(r.rest).data) };
                  } catch (e) {
                    if (isCode(e, ZkCode.noNode)) return { value: null };
                    throw e;
                  }
                },
              );
            case 'write': {
              const session = await beforeSending(signal, async () => {
                const s = await holder.get(signal);
                await ensureZnode(s, holder.made, path, signal);
                return s;
              });
              const r = await session.request(
                'setData',
                OpCode.setData,
                (w) => requests.setData(w, path, encodeValue(op.value), -1),
                signal,
              );
              replies.stat(r.rest, 'SetDataResponse');
              return {};
            }
            case 'cas': {
              const [from, to] = op.value as [unknown, unknown];
              const { session, version } = await beforeSending(signal, async () => {
                const s = await holder.get(signal);
                await ensureZnode(s, holder.made, path, signal);
                const r = await s.request(
                  'getData',
                  OpCode.getData,
                  (w) => requests.pathWatch(w, path),
                  signal,
                );
                const { data, stat } = replies.getData(r.rest);
                const current = decodeValue(data);
                if (JSON.stringify(current) !== JSON.stringify(from ?? null)) {
                  throw new CasFailed(current);
                }
                return { session: s, version: stat.version };
              });
              const r = await session.request(
                'setData',
                OpCode.setData,
                (w) => requests.setData(w, path, encodeValue(to), version),
                signal,
              );
              replies.stat(r.rest, 'SetDataResponse');
              return {};
            }
            default:
              throw new OpError(
                'unsupported',
                `the zookeeper register client has no operation ${op.f}`,
              );
          }
        },
        close: () => holder.close(),
      };
    },
  };
}

/**
 * The `set` API on ZooKeeper: each element is a child znode of the set's znode,
 * `/s/<key>/<element as JSON, URI-encoded>`. `add` e = create it (NodeExists: the element is
 * there already → ok); `remove` e = delete it, any version (NoNode: not there → ok); `read` =
 * getChildren of the set's znode (absent → []), after a `sync` in sync mode. One request per
 * op, never retried; classified by `zookeeperErrors` as the register client.
 */
export function zookeeperSetClient(reads: ZkReadMode = 'plain'): ClientFactory<Op> {
  return {
    errors: zookeeperErrors,
    open(_node, address) {
      const holder = new SessionHolder(address);
      return {
        async invoke(op, signal) {
          const parent = setPath(String(op.key ?? 's'));
          const element = `${parent}/${encodeURIComponent(JSON.stringify(op.value))}`;
          switch (op.f) {
            case 'add':
            case 'remove': {
              const session = await beforeSending(signal, async () => {
                const s = await holder.get(signal);
                await ensureZnode(s, holder.made, parent, signal);
                return s;
              });
              try {
                if (op.f === 'add') {
                  const data = Buffer.from(JSON.stringify(op.value), 'utf8');
                  const r = await session.request(
                    'create',
                    OpCode.create,
                    (w) => requests.create(w, element, data),
                    signal,
                  );
                  replies.create(r.rest);
                } else {
                  await session.request(
                    'delete',
                    OpCode.delete,
                    (w) => requests.delete(w, element, -1),
                    signal,
                  );
                }
              } catch (e) {
                if (op.f === 'add' && isCode(e, ZkCode.nodeExists)) return {};
                if (op.f === 'remove' && isCode(e, ZkCode.noNode)) return {};
                throw e;
              }
              return {};
            }
            case 'read':
              return readWith(
                () => holder.get(signal),
                reads,
                parent,
                signal,
                async (session) => {
                  const names = await children(session, parent, signal);
                  return { value: names.map(decodeElement) };
                },
              );
            default:
              throw new OpError('unsupported', `the zookeeper set client has no operation ${op.f}`);
          }
        },
        close: () => holder.close(),
      };
    },
  };
}

/**
 * The `replica-set` API on ZooKeeper: one server's own state. Plain getChildren of `/s`, then of
 * each set's znode, on the server this client is bound to: a ZooKeeper server answers reads
 * from what it has applied, without the leader, so this is that replica's view. Op
 * `{f: "replica-read", value: {node, round}}`; value `{node, round, keys: {key: {elements}}}`.
 * Any failure is `fail` (a read changes nothing).
 */
export const zookeeperReplicaSetClient: ClientFactory<Op> = {
  errors: zookeeperErrors,
  open(_node, address) {
    const holder = new SessionHolder(address);
    return {
      async invoke(op, signal) {
        if (op.f !== 'replica-read') {
          throw new OpError('unsupported', `the zookeeper replica reader has no operation ${op.f}`);
        }
        const keys: Record<string, { elements: unknown[] }> = {};
        await failedRead(signal, async () => {
          const s = await holder.get(signal);
          for (const set of await children(s, SETS_ROOT, signal)) {
            const names = await children(s, `${SETS_ROOT}/${set}`, signal);
            keys[decodeURIComponent(set)] = { elements: names.map(decodeElement) };
          }
        });
        const arg = (op.value ?? {}) as Record<string, unknown>;
        return { value: { ...arg, keys } };
      },
      close: () => holder.close(),
    };
  },
};
