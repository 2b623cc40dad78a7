import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Client, ClientContext, ClientFactory, OkResult, Op } from '../../core/client.js';
import { failedRead, OpError } from '../../core/client.js';
import type { NodeId } from '../../core/cluster.js';
import { clientSettings, type RedisSettings, sentinelAddress } from './config.js';
import { connection, raceSignal } from './connection.js';
import { CasFailed, isReplyError, NotReplicated, NotSent, redisErrors } from './errors.js';
import { masterAddress, nodeAt, role } from './sentinel.js';

/** Where a register's value lives, and a set's elements (kept apart, so replica reads can SCAN). */
export const registerKey = (op: Op) => `register:${String(op.key ?? 'r')}`;
export const SET_PREFIX = 'set:';
export const setKey = (op: Op) => `${SET_PREFIX}${String(op.key ?? 's')}`;

/**
 * The cas: the value compared and replaced in one script (redis runs it atomically). ARGV[1]
 * '0': expect the key absent; '1': expect the value ARGV[2]. Returns 1 when it wrote ARGV[3].
 */
export const CAS_SCRIPT = [
  "local v = redis.call('GET', KEYS[1])",
  "if (ARGV[1] == '0' and v == false) or (ARGV[1] == '1' and v == ARGV[2]) then",
  "  redis.call('SET', KEYS[1], ARGV[3])",
  '  return 1',
  'end',
  'return 0',
].join('\n');

const json = (v: unknown) => JSON.stringify(v);
const parseValue = (s: string) => JSON.parse(s) as unknown;

/** Per-sentinel bound on the look-up of the primary, within the op's own signal. */
const LOOKUP_MS = 1000;

/**
 * One worker's way to the primary. With `route=sentinel`, before every op it asks the sentinels
 * which node is the primary (its own node's sentinel first, then the others; a connection to
 * each kept open), and uses its connection to that node, made (and checked with ROLE) when the
 * named node changes: so a client follows a failover at its next op, as soon as the sentinel it
 * asks knows of it, while one whose sentinel still names an old primary keeps writing there.
 * With `route=node`, always its own node. The connection is dropped after any error that leaves
 * its state unknown (a drop, a timeout, a reply saying the node cannot serve). A command is
 * written at most once, on a connection that was ready; nothing is retried.
 */
class RedisSession {
  private conn: Redis | undefined;
  private connNode: NodeId | undefined;
  private readonly sentinels = new Map<NodeId, Redis>();

  constructor(
    private readonly node: NodeId,
    private readonly context: ClientContext,
    readonly settings: RedisSettings,
  ) {}

  /** Every error here happens before the op's command is written: NotSent (or the abort). */
  async ready(signal: AbortSignal): Promise<{ conn: Redis; served: NodeId }> {
    const target =
      this.settings.route === 'node' ? this.node : await this.primaryFromSentinels(signal);
    if (this.conn?.status === 'ready' && this.connNode === target) {
      return { conn: this.conn, served: target };
    }
    this.drop();
    const conn = connection(this.context.clientAddress(target));
    try {
      await raceSignal(conn.connect(), signal, () => conn.disconnect());
      if (this.settings.route === 'sentinel') {
        const r = await raceSignal(role(conn), signal, () => conn.disconnect());
        if (r !== 'master')
          throw new NotSent(`${target}, named primary by a sentinel, says ROLE ${r}`);
      }
    } catch (e) {
      conn.disconnect();
      if (signal.aborted || e instanceof NotSent) throw e;
      throw new NotSent(`no connection to ${target}`, e);
    }
    this.conn = conn;
    this.connNode = target;
    return { conn, served: target };
  }

  /** The primary named by the first sentinel that names one: its own node's first, then the rest. */
  private async primaryFromSentinels(signal: AbortSignal): Promise<NodeId> {
    const { nodes, clientAddress } = this.context;
    const order = [this.node, ...nodes.filter((n) => n !== this.node)];
    const problems: string[] = [];
    for (const n of order) {
      if (signal.aborted) throw signal.reason;
      const bound = AbortSignal.any([signal, AbortSignal.timeout(LOOKUP_MS)]);
      try {
        const a = await this.askSentinel(n, bound);
        if (a === null) {
          problems.push(`${n}'s sentinel knows no primary`);
          continue;
        }
        const primary = nodeAt(a, nodes, clientAddress);
        if (primary !== undefined) return primary;
        problems.push(`${n}'s sentinel names ${a.host}:${a.port}, no node's address`);
      } catch (e) {
        this.sentinels.get(n)?.disconnect();
        this.sentinels.delete(n);
        if (signal.aborted) throw signal.reason;
        problems.push(`${n}'s sentinel: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    throw new NotSent(`no sentinel named a primary (${problems.join('; ')})`);
  }

  private async askSentinel(n: NodeId, signal: AbortSignal) {
    let s = this.sentinels.get(n);
    if (s?.status !== 'ready') {
      s?.disconnect();
      const fresh = connection(sentinelAddress(this.context.clientAddress(n)));
      this.sentinels.set(n, fresh);
      await raceSignal(fresh.connect(), signal, () => fresh.disconnect());
      s = fresh;
    }
    const conn = s;
    return raceSignal(masterAddress(conn), signal, () => conn.disconnect());
  }

  /**
   * Sends one command on the ready connection. On an abort or an error other than an ordinary
   * error reply, or a reply saying this node cannot serve (READONLY, LOADING, MASTERDOWN), the
   * connection is dropped: a late reply must not be read as the next op's.
   */
  async send(conn: Redis, signal: AbortSignal, args: (string | number)[]): Promise<unknown> {
    try {
      const [command, ...rest] = args;
      return await raceSignal(conn.call(String(command), ...rest), signal, () => this.drop());
    } catch (e) {
      if (!isReplyError(e) || /^(READONLY|LOADING|MASTERDOWN)/.test(e.message)) {
        this.drop();
      }
      // ioredis refuses at once, without writing, a command on a connection gone unwritable.
      if (e instanceof Error && /Stream isn't writeable/.test(e.message)) {
        throw new NotSent('the connection closed before the command', e);
      }
      throw e;
    }
  }

  /** After a write: `WAIT n timeout` when asked; fewer replicas, or any failure: NotReplicated. */
  async waitReplicas(conn: Redis, signal: AbortSignal): Promise<void> {
    const wanted = this.settings.wait;
    if (wanted === 0) return;
    let acked: number;
    try {
      acked = z
        .number()
        .parse(await this.send(conn, signal, ['WAIT', wanted, this.settings['wait-timeout']]));
    } catch (e) {
      if (signal.aborted) throw e;
      throw new NotReplicated(`WAIT failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (acked < wanted) {
      throw new NotReplicated(`WAIT ${wanted}: acknowledged by ${acked} replica(s)`);
    }
  }

  drop(): void {
    this.conn?.disconnect();
    this.conn = undefined;
    this.connNode = undefined;
  }

  close(): void {
    this.drop();
    for (const s of this.sentinels.values()) s.disconnect();
    this.sentinels.clear();
  }
}

type Step = (s: RedisSession, conn: Redis, op: Op, signal: AbortSignal) => Promise<unknown>;

/** Reads: any failure but the op's own abort is a ReadFailed (a read changes nothing). */
async function reading(
  s: RedisSession,
  op: Op,
  signal: AbortSignal,
  step: Step,
): Promise<OkResult> {
  return failedRead(signal, async () => {
    const { conn, served } = await s.ready(signal);
    return { value: await step(s, conn, op, signal), extra: { servedBy: served } };
  });
}

/** Writes: the command once, then WAIT when asked. */
async function writing(
  s: RedisSession,
  op: Op,
  signal: AbortSignal,
  step: Step,
): Promise<OkResult> {
  const { conn, served } = await s.ready(signal);
  await step(s, conn, op, signal);
  await s.waitReplicas(conn, signal);
  return { extra: { servedBy: served } };
}

const registerOps: Record<
  string,
  (s: RedisSession, op: Op, signal: AbortSignal) => Promise<OkResult>
> = {
  read: (s, op, signal) =>
    reading(s, op, signal, async (s2, conn, o, sig) => {
      const v = z
        .string()
        .nullable()
        .parse(await s2.send(conn, sig, ['GET', registerKey(o)]));
      return v === null ? null : parseValue(v);
    }),
  write: (s, op, signal) =>
    writing(s, op, signal, (s2, conn, o, sig) =>
      s2.send(conn, sig, ['SET', registerKey(o), json(o.value)]),
    ),
  cas: (s, op, signal) =>
    writing(s, op, signal, async (s2, conn, o, sig) => {
      const [from, to] = z.tuple([z.unknown(), z.unknown()]).parse(o.value);
      const expect = from === null || from === undefined ? ['0', ''] : ['1', json(from)];
      const args = ['EVAL', CAS_SCRIPT, 1, registerKey(o), ...expect, json(to)];
      if ((await s2.send(conn, sig, args)) !== 1) throw new CasFailed();
    }),
};

const setOps: typeof registerOps = {
  add: (s, op, signal) =>
    writing(s, op, signal, (s2, conn, o, sig) =>
      s2.send(conn, sig, ['SADD', setKey(o), json(o.value)]),
    ),
  remove: (s, op, signal) =>
    writing(s, op, signal, (s2, conn, o, sig) =>
      s2.send(conn, sig, ['SREM', setKey(o), json(o.value)]),
    ),
  read: (s, op, signal) =>
    reading(s, op, signal, async (s2, conn, o, sig) =>
      z
        .array(z.string())
        .parse(await s2.send(conn, sig, ['SMEMBERS', setKey(o)]))
        .map(parseValue),
    ),
};

/** Which workload a txn client serves: list-append on redis lists, rw-register on strings. */
export type TxnKind = 'list-append' | 'rw-register';
export const txnKey = (k: string | number) => `txn:${String(k)}`;
const microOpsSchema = z.array(
  z.tuple([z.string(), z.union([z.string(), z.number()]), z.unknown()]),
);

/**
 * `txn`: the micro-ops as one MULTI … EXEC, which redis runs with nothing in between:
 * `[append k v]` = RPUSH, `[w k v]` = SET, `[r k nil]` = LRANGE 0 -1 (list-append) or GET
 * (rw-register); values are JSON text. Until EXEC is written nothing can have happened (redis
 * drops the queued commands with the connection, which is then closed): any failure before it
 * is NotSent. Then WAIT when asked, if the txn wrote.
 */
function txnOps(kind: TxnKind): typeof registerOps {
  const command = ([f, k, v]: [string, string | number, unknown]): (string | number)[] => {
    if (f === 'r')
      return kind === 'list-append' ? ['LRANGE', txnKey(k), 0, -1] : ['GET', txnKey(k)];
    if (f === 'append' && kind === 'list-append') return ['RPUSH', txnKey(k), json(v)];
    if (f === 'w' && kind === 'rw-register') return ['SET', txnKey(k), json(v)];
    throw new OpError('unsupported', `the redis ${kind} client has no micro-op ${f}`);
  };
  return {
    txn: async (s, op, signal) => {
      const micro = microOpsSchema.parse(op.value);
      const commands = micro.map(command);
      const { conn, served } = await s.ready(signal);
      try {
        await s.send(conn, signal, ['MULTI']);
        for (const c of commands) await s.send(conn, signal, c);
      } catch (e) {
        s.drop();
        if (signal.aborted) throw e;
        throw new NotSent('the transaction was not queued whole', e);
      }
      const replies = z
        .array(z.unknown())
        .length(commands.length)
        .parse(await s.send(conn, signal, ['EXEC']));
      const value = micro.map(([f, k, v], i) => {
        if (f !== 'r') return [f, k, v];
        const r = replies[i];
        if (kind === 'list-append') return [f, k, z.array(z.string()).parse(r).map(parseValue)];
        return [f, k, r === null ? null : parseValue(z.string().parse(r))];
      });
      if (micro.some(([f]) => f !== 'r')) await s.waitReplicas(conn, signal);
      return { value, extra: { servedBy: served } };
    },
  };
}

function factoryOf(api: string, ops: typeof registerOps): ClientFactory<Op> {
  return {
    errors: redisErrors,
    open(node, _address, context): Client {
      const session = new RedisSession(node, context, clientSettings(context.settings));
      return {
        invoke(op, signal) {
          const run = ops[op.f];
          if (run === undefined) {
            return Promise.reject(
              new OpError('unsupported', `the redis ${api} client has no operation ${op.f}`),
            );
          }
          return run(session, op, signal);
        },
        async close() {
          session.close();
        },
      };
    },
  };
}

/**
 * The `register` API: read = GET, write = SET, cas [from, to] = EVAL of CAS_SCRIPT (from null:
 * the key absent). Values are JSON text. Each op on the primary the sentinels name (or the
 * client's own node with `route=node`), then `WAIT` when the `wait` setting asks for it.
 */
export const redisRegisterClient: ClientFactory<Op> = factoryOf('register', registerOps);

/** The `list-append` and `rw-register` APIs: op `txn` (see txnOps). */
export const redisListAppendClient: ClientFactory<Op> = factoryOf(
  'list-append',
  txnOps('list-append'),
);
export const redisRwRegisterClient: ClientFactory<Op> = factoryOf(
  'rw-register',
  txnOps('rw-register'),
);

/** The `set` API: add = SADD, remove = SREM, read = SMEMBERS; elements are JSON text. */
export const redisSetClient: ClientFactory<Op> = factoryOf('set', setOps);

/**
 * The `replica-set` API: one node's own data, asked of its own redis whatever its role (SCAN
 * over the set keys, SMEMBERS of each). Op `{f: "replica-read", value: {node, round}}`; value
 * `{node, round, keys: {key: {elements}}}`. Any failure is `fail` (a read changes nothing).
 */
export const redisReplicaSetClient: ClientFactory<Op> = {
  errors: redisErrors,
  open(_node, address): Client {
    let conn: Redis | undefined;
    return {
      async invoke(op, signal) {
        if (op.f !== 'replica-read') {
          throw new OpError('unsupported', `the redis replica reader has no operation ${op.f}`);
        }
        return failedRead(signal, async () => {
          if (conn?.status !== 'ready') {
            conn?.disconnect();
            const c = connection(address);
            conn = c;
            await raceSignal(c.connect(), signal, () => c.disconnect());
          }
          const c = conn;
          const call = (...args: (string | number)[]) =>
            raceSignal(c.call(String(args[0]), ...args.slice(1)), signal, () => c.disconnect());
          const keys: Record<string, { elements: unknown[] }> = {};
          let cursor = '0';
          do {
            const [next, found] = z
              .tuple([z.string(), z.array(z.string())])
              .parse(await call('SCAN', cursor, 'MATCH', `${SET_PREFIX}*`, 'COUNT', 1000));
            for (const k of found) {
              const members = z.array(z.string()).parse(await call('SMEMBERS', k));
              keys[k.slice(SET_PREFIX.length)] = { elements: members.map(parseValue) };
            }
            cursor = next;
          } while (cursor !== '0');
          const arg = (op.value ?? {}) as Record<string, unknown>;
          return { value: { ...arg, keys } };
        });
      },
      async close() {
        conn?.disconnect();
      },
    };
  },
};
