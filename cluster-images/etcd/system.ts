import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { ClientFactory, Op } from '../../core/client.js';
import {
  ErrorRegistry,
  failedRead,
  hasCode,
  OpError,
  readFailureRules,
} from '../../core/client.js';
import type { HostPort, NodeId } from '../../core/cluster.js';
import { HttpJsonClient, HttpStatusError } from '../../core/http-json.js';
import type {
  ClusterView,
  MembershipHooks,
  MembershipView,
  SystemDefinition,
} from '../../core/system.js';
import { defineSystem } from '../../core/system.js';
import { etcdTxnClient } from './txn.js';

/**
 * etcd 3.4 (Raft, one leader) under test, through its v3 HTTP/JSON gateway. The binary is the
 * host's, from Debian's `etcd-server` package (`sh scripts/ensure-etcd.sh` installs it).
 *
 * Docker only. The local backend gives node i the address of a proxy of its own for peer j
 * (one proxy per ordered pair), so the nodes cannot agree on one peer URL per member; etcd
 * derives each member's id from its peer URLs and the cluster token, and the cluster id from the
 * member ids, so members started with different `--initial-cluster` URLs for the same peer form
 * different clusters (seen: two members given each other's proxy-like URLs started in clusters
 * 5225cbb69bf33b74 and 148907d3d2094e04) and reject each other's traffic. In docker every node
 * reaches peer p at p's own container address, the same for all.
 */
export const ETCD_BINARY = '/usr/bin/etcd';

const url = (a: HostPort) =>
  a.host.includes(':') ? `http://[${a.host}]:${a.port}` : `http://${a.host}:${a.port}`;

const ms = z.coerce.number().int('expected a whole number of milliseconds').min(1);

/**
 * The node settings (`--system-opt key=value`). Timeouts 1.5 times etcd's defaults
 * (100 / 1000 ms), for a loaded 2-core machine running three members and the harness, where a
 * late heartbeat is a needless election (a margin chosen, not measured against the defaults).
 */
export const etcdSettings = z
  .strictObject({
    /** `--heartbeat-interval`, ms. */
    'heartbeat-interval': ms.default(150),
    /** `--election-timeout`, ms (etcd wants at least 5 heartbeats). */
    'election-timeout': ms.default(1500),
    /** `--snapshot-count`: applied entries between snapshots. */
    'snapshot-count': z.coerce.number().int('expected a whole number').min(1).optional(),
  })
  // etcd refuses to start otherwise; said before anything starts instead.
  .refine((s) => s['election-timeout'] >= 5 * s['heartbeat-interval'], {
    path: ['election-timeout'],
    message: 'expected at least 5 heartbeat intervals (etcd refuses less)',
  });

/** The read mode of the register client: etcd's default (through Raft) or served locally. */
export type EtcdReadMode = 'linearizable' | 'serializable';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
/** A register value as stored: its JSON text (the workload's values are integers). */
const encodeValue = (v: unknown) => b64(JSON.stringify(v));
const decodeValue = (s: unknown): unknown => (typeof s === 'string' ? JSON.parse(unb64(s)) : null);

/** The cas's precondition did not hold: etcd answered `succeeded: false`, nothing was written. */
class CasFailed extends OpError {
  constructor() {
    super('cas-failed', 'the value was not the expected one (txn succeeded: false)');
  }
}

const status = (e: unknown) => (e instanceof HttpStatusError ? e.status : undefined);
/** The gateway's error text (`{"error": "etcdserver: ...", "code": N}`), or ''. */
const etcdError = (e: unknown): string => {
  const body = e instanceof HttpStatusError ? (e.body as { error?: unknown } | null) : null;
  return typeof body?.error === 'string' ? body.error : '';
};
const isOutage = (e: unknown) =>
  hasCode(e, 'ECONNREFUSED') || (status(e) ?? 0) >= 500 || !(e instanceof HttpStatusError);

/**
 * How each answer of the gateway is recorded (rules in order; anything no rule matches is
 * `info`). The gateway maps etcd's gRPC codes to HTTP: InvalidArgument / FailedPrecondition /
 * OutOfRange → 400, ResourceExhausted → 429, Canceled → 408, DeadlineExceeded → 504,
 * Unavailable (no leader, leader changed, request timed out) → 503, Unknown / Internal → 500.
 *
 * | answer | write / cas | read |
 * | --- | --- | --- |
 * | 200, txn `succeeded: false` | `fail` (cas precondition: nothing written) | — |
 * | connection refused | `fail`, unavailable (the request never reached etcd) | `fail`, unavailable |
 * | 408 "request cancelled" | `info`: a cancelled proposal may still be committed | `fail` |
 * | other 4xx (400 bad request, 404 no such path, 429 too many requests: refused before proposing) | `fail` | `fail` |
 * | 503 "leader changed" / "request timed out" / "no leader", any 5xx | `info` | `fail`, unavailable |
 * | reset, timeout, a 200 of unexpected shape, anything else | `info` | `fail`, unavailable (timeout of the op: `info`) |
 */
export const etcdErrors = new ErrorRegistry([
  {
    name: 'cas precondition failed',
    type: 'fail',
    match: (e) => e instanceof CasFailed,
  },
  // A read changes nothing; "unavailable" when etcd could not serve it (outage, not an answer).
  ...readFailureRules(isOutage),
  {
    name: 'connection refused',
    type: 'fail',
    unavailable: true,
    match: (e) => hasCode(e, 'ECONNREFUSED'),
  },
  {
    // Canceled: the request may have been proposed before the cancel; its fate is unknown.
    name: 'request cancelled',
    type: 'info',
    match: (e) => status(e) === 408,
  },
  {
    name: 'rejected',
    type: 'fail',
    match: (e) => {
      const s = status(e);
      return s !== undefined && s >= 400 && s < 500;
    },
  },
  {
    // Unavailable: the proposal may be in the log of a leader that lost its term, or committed
    // after the deadline.
    name: 'leader changed',
    type: 'info',
    match: (e) => /leader changed/.test(etcdError(e)),
  },
  {
    name: 'request timed out',
    type: 'info',
    match: (e) => /request timed out/.test(etcdError(e)),
  },
  {
    name: 'server error',
    type: 'info',
    match: (e) => (status(e) ?? 0) >= 500,
  },
  {
    name: 'unknown op',
    type: 'fail',
    match: (e) => e instanceof OpError && e.code === 'unsupported',
  },
]);

interface RangeReply {
  kvs?: { value?: string }[];
}

/**
 * The `register` API on etcd: `read` = POST /v3/kv/range (linearizable unless the read mode
 * says serializable), `write` = POST /v3/kv/put, `cas [from, to]` = POST /v3/kv/txn comparing
 * the value (from null: comparing create_revision with 0, i.e. the key is absent) and putting
 * on success. Keys and values are base64 in the JSON; values are stored as JSON text. One
 * request per op, never retried (HttpJsonClient sends each request once).
 */
export function etcdRegisterClient(reads: EtcdReadMode = 'linearizable'): ClientFactory<Op> {
  return {
    errors: etcdErrors,
    open(_node, address) {
      const http = new HttpJsonClient(address);
      return {
        async invoke(op, signal) {
          const key = b64(String(op.key ?? 'r'));
          switch (op.f) {
            case 'read': {
              const body = (await failedRead(signal, () =>
                http.call(
                  'POST',
                  '/v3/kv/range',
                  reads === 'serializable' ? { key, serializable: true } : { key },
                  signal,
                ),
              )) as RangeReply | null;
              const kv = body?.kvs?.[0];
              return { value: kv === undefined ? null : decodeValue(kv.value) };
            }
            case 'write':
              await http.call('POST', '/v3/kv/put', { key, value: encodeValue(op.value) }, signal);
              return {};
            case 'cas': {
              const [from, to] = op.value as [unknown, unknown];
              const compare =
                from === null || from === undefined
                  ? { key, target: 'CREATE', result: 'EQUAL', create_revision: '0' }
                  : { key, target: 'VALUE', result: 'EQUAL', value: encodeValue(from) };
              const body = (await http.call(
                'POST',
                '/v3/kv/txn',
                {
                  compare: [compare],
                  success: [{ request_put: { key, value: encodeValue(to) } }],
                },
                signal,
              )) as { succeeded?: unknown } | null;
              // proto3 JSON leaves out a false `succeeded`.
              if (body?.succeeded !== true) throw new CasFailed();
              return {};
            }
            default:
              throw new OpError('unsupported', `the etcd register client has no operation ${op.f}`);
          }
        },
        async close() {
          http.close();
        },
      };
    },
  };
}

/** The key prefix of set `key`'s elements: `/set/<key>/` (the key URI-encoded: no `/` inside). */
export const setPrefix = (key: string) => `/set/${encodeURIComponent(key)}/`;
const SET_ROOT = '/set/';

/**
 * The `range_end` (base64) of a range over every key starting with `prefix`: the prefix with its
 * last byte below 0xff incremented and the bytes after it dropped (etcd's GetPrefixRangeEnd);
 * all bytes 0xff: `\0`, i.e. every key from `prefix` on.
 */
export function prefixRangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    const b = bytes[i] as number;
    if (b < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = b + 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}

/** POST /v3/kv/range over a prefix; any failure (not an abort of the op) is a ReadFailed. */
async function rangePrefix(
  http: HttpJsonClient,
  prefix: string,
  serializable: boolean,
  signal: AbortSignal,
): Promise<{ key: string; value: unknown }[]> {
  // A 200 of unexpected shape (no array, a value that is not JSON) is a failed read too.
  return failedRead(signal, async () => {
    const req = { key: b64(prefix), range_end: prefixRangeEnd(prefix) };
    const body = (await http.call(
      'POST',
      '/v3/kv/range',
      serializable ? { ...req, serializable: true } : req,
      signal,
    )) as { kvs?: { key?: string; value?: string }[] } | null;
    const kvs = body?.kvs ?? [];
    if (!Array.isArray(kvs)) throw new Error('a range reply whose kvs is not an array');
    return kvs.map((kv) => ({ key: unb64(kv.key ?? ''), value: decodeValue(kv.value) }));
  });
}

/**
 * The `set` API on etcd: each element is a key of its own under the set's prefix,
 * `/set/<key>/<element as JSON>`, its value the element as JSON text. `add` e = POST /v3/kv/put
 * of the element's key; `remove` e = POST /v3/kv/deleterange of it; `read` = POST /v3/kv/range
 * over the prefix (`range_end` = the prefix with its last byte + 1), linearizable unless the
 * read mode says serializable, its value the elements. One request per op, never retried;
 * classified by `etcdErrors` as the register client: adds and removes as writes (ambiguous →
 * info), reads as reads (any failure → fail).
 */
export function etcdSetClient(reads: EtcdReadMode = 'linearizable'): ClientFactory<Op> {
  return {
    errors: etcdErrors,
    open(_node, address) {
      const http = new HttpJsonClient(address);
      const elementKey = (op: Op) =>
        b64(setPrefix(String(op.key ?? 's')) + JSON.stringify(op.value));
      return {
        async invoke(op, signal) {
          switch (op.f) {
            case 'add':
              await http.call(
                'POST',
                '/v3/kv/put',
                { key: elementKey(op), value: encodeValue(op.value) },
                signal,
              );
              return {};
            case 'remove':
              await http.call('POST', '/v3/kv/deleterange', { key: elementKey(op) }, signal);
              return {};
            case 'read': {
              const kvs = await rangePrefix(
                http,
                setPrefix(String(op.key ?? 's')),
                reads === 'serializable',
                signal,
              );
              return { value: kvs.map((kv) => kv.value) };
            }
            default:
              throw new OpError('unsupported', `the etcd set client has no operation ${op.f}`);
          }
        },
        async close() {
          http.close();
        },
      };
    },
  };
}

/**
 * The `replica-set` API on etcd: one member's own state, a serializable range over every set
 * (`/set/`), served from what that member has applied, without asking the leader. Op
 * `{f: "replica-read", value: {node, round}}`; value `{node, round, keys: {key: {elements}}}`.
 * Any failure is `fail` (a read changes nothing).
 */
export const etcdReplicaSetClient: ClientFactory<Op> = {
  errors: etcdErrors,
  open(_node, address) {
    const http = new HttpJsonClient(address);
    return {
      async invoke(op, signal) {
        if (op.f !== 'replica-read') {
          throw new OpError('unsupported', `the etcd replica reader has no operation ${op.f}`);
        }
        const keys: Record<string, { elements: unknown[] }> = {};
        for (const kv of await rangePrefix(http, SET_ROOT, true, signal)) {
          const rest = kv.key.slice(SET_ROOT.length);
          const slash = rest.indexOf('/');
          if (slash < 0) continue;
          const key = decodeURIComponent(rest.slice(0, slash));
          const state = keys[key] ?? { elements: [] };
          state.elements.push(kv.value);
          keys[key] = state;
        }
        const arg = (op.value ?? {}) as Record<string, unknown>;
        return { value: { ...arg, keys } };
      },
      async close() {
        http.close();
      },
    };
  },
};

interface StatusReply {
  header?: { member_id?: string };
  leader?: string;
}

/** POST /v3/maintenance/status: the answering member's id and the leader it knows ('0': none). */
async function memberStatus(address: HostPort, signal: AbortSignal): Promise<StatusReply> {
  const c = new HttpJsonClient(address);
  try {
    return ((await c.call('POST', '/v3/maintenance/status', {}, signal)) ?? {}) as StatusReply;
  } finally {
    c.close();
  }
}

/** Member ids are 64-bit: kept as the decimal strings the gateway sends. */
const knownLeader = (s: StatusReply) =>
  typeof s.leader === 'string' && s.leader !== '0' ? s.leader : undefined;

/** The node leading now: any node's status names the leader's id; its member entry, the name. */
async function etcdLeader(cluster: ClusterView): Promise<NodeId | undefined> {
  for (const node of cluster.nodes) {
    if (cluster.signal.aborted) return undefined;
    const signal = AbortSignal.any([cluster.signal, AbortSignal.timeout(1000)]);
    try {
      const address = cluster.clientAddress(node);
      const leader = knownLeader(await memberStatus(address, signal));
      if (leader === undefined) continue;
      const c = new HttpJsonClient(address);
      try {
        const list = (await c.call('POST', '/v3/cluster/member/list', {}, signal)) as {
          members?: { ID?: string; name?: string }[];
        } | null;
        const name = list?.members?.find((m) => m.ID === leader)?.name;
        if (name !== undefined && cluster.nodes.includes(name)) return name;
      } finally {
        c.close();
      }
    } catch {
      // This node does not answer (down, paused, cut off): ask the next.
    }
  }
  return undefined;
}

interface MemberList {
  members?: { ID?: string; name?: string; peerURLs?: string[] }[];
}

/** How long a reconfiguration is asked again while etcd calls the cluster unhealthy. */
const RECONFIG_PATIENCE_MS = 10_000;

/**
 * A member add or remove, asked again every 250 ms (up to RECONFIG_PATIENCE_MS) while etcd
 * refuses it as "unhealthy cluster": etcd checks that a reconfiguration leaves a quorum of
 * members that have been connected for 5 s, so right after a start or a membership change it
 * refuses; a refusal changes nothing, so asking again cannot apply it twice.
 */
async function reconfigure(
  view: MembershipView,
  not: NodeId,
  path: string,
  body: unknown,
): Promise<unknown> {
  const until = Date.now() + RECONFIG_PATIENCE_MS;
  for (;;) {
    try {
      return await callAnyMember(view, not, path, body);
    } catch (e) {
      const unhealthy = e instanceof Error && /unhealthy cluster/.test(e.message);
      if (!unhealthy || Date.now() >= until || view.signal.aborted) throw e;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * One gateway call to the first member (in order, skipping `not`) that answers; rejects with
 * every member's error when none does.
 */
async function callAnyMember(
  view: MembershipView,
  not: NodeId | undefined,
  path: string,
  body: unknown,
): Promise<unknown> {
  const errors: string[] = [];
  for (const node of view.members) {
    if (node === not) continue;
    const c = new HttpJsonClient(view.clientAddress(node));
    try {
      return await c.call(
        'POST',
        path,
        body,
        AbortSignal.any([view.signal, AbortSignal.timeout(3000)]),
      );
    } catch (e) {
      errors.push(`${node}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      c.close();
    }
  }
  throw new Error(`${path}: no member answered (${errors.join('; ')})`);
}

/**
 * Runtime membership through etcd's cluster API, in the order etcd requires: a node joins by
 * `member/add` of its peer URL first (the cluster then expects it), then it starts with
 * `--initial-cluster-state existing` and the members as its initial cluster; a node leaves by
 * `member/remove` of its id (asked of another member), then it is stopped and its data deleted.
 * At least 2 members are kept: with one, a restart of that member is an outage of everything.
 */
const etcdMembership: MembershipHooks = {
  async join(view, node, start) {
    await reconfigure(view, node, '/v3/cluster/member/add', {
      peerURLs: [url(view.peerAddress(node))],
    });
    await start();
  },
  async leave(view, node, stop) {
    const list = (await callAnyMember(
      view,
      node,
      '/v3/cluster/member/list',
      {},
    )) as MemberList | null;
    const id = list?.members?.find((m) => m.name === node)?.ID;
    if (id === undefined) throw new Error(`member/list names no member ${node}`);
    await reconfigure(view, node, '/v3/cluster/member/remove', { ID: id });
    await stop();
  },
  minMembers: () => 2,
};

/**
 * etcd as a faultline system. `reads` picks the register client's read mode for a test
 * (`etcdSystem({ reads: 'serializable' })` as `defineTest({ system })` or a module's default
 * export); the built-in `etcd` reads linearizably.
 */
export function etcdSystem(options: { reads?: EtcdReadMode } = {}): SystemDefinition {
  const reads = options.reads ?? 'linearizable';
  return defineSystem({
    name: reads === 'serializable' ? 'etcd-serializable' : 'etcd',
    settings: etcdSettings,
    docker: {
      // Debian's etcd is a Go program linked against libc only (cgo): ldd lists what to copy.
      image: { binaries: [ETCD_BINARY] },
      launch({ node, listen, peerListen, peers, joining, dataDir, settings }) {
        const all: Record<NodeId, HostPort> = { ...peers, [node]: peerListen };
        const initialCluster = Object.entries(all)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([id, a]) => `${id}=${url(a)}`)
          .join(',');
        const args = [
          '--name',
          node,
          '--data-dir',
          dataDir,
          '--listen-client-urls',
          url(listen),
          '--advertise-client-urls',
          url(listen),
          '--listen-peer-urls',
          url(peerListen),
          '--initial-advertise-peer-urls',
          url(all[node] ?? peerListen),
          '--initial-cluster',
          initialCluster,
          // A node added to a running cluster (after its member add) joins the existing one.
          '--initial-cluster-state',
          joining ? 'existing' : 'new',
          '--heartbeat-interval',
          String(settings['heartbeat-interval']),
          '--election-timeout',
          String(settings['election-timeout']),
        ];
        if (settings['snapshot-count'] !== undefined) {
          args.push('--snapshot-count', String(settings['snapshot-count']));
        }
        // The cluster token from the run (the backend sets FAULTLINE_RUN_ID in the node's
        // environment; the launch is built before the run id reaches it otherwise).
        return {
          command: '/bin/sh',
          args: [
            '-c',
            `exec ${ETCD_BINARY} "$@" --initial-cluster-token "faultline-$FAULTLINE_RUN_ID"`,
            'etcd',
            ...args,
          ],
          env: {},
        };
      },
    },
    // Healthy once the node answers and knows a leader: a member without one serves nothing.
    async healthy(client) {
      try {
        return knownLeader(await memberStatus(client, AbortSignal.timeout(500))) !== undefined;
      } catch {
        return false;
      }
    },
    // A Go program: the runtime reads the clock through the vDSO, not libc, so libfaketime cannot
    // move it (checked: with FAKETIME=+10d and libfaketime preloaded, `date` says ten days on and
    // etcd's own log lines say today).
    clockFaults: false,
    clients: {
      register: etcdRegisterClient(reads),
      set: etcdSetClient(reads),
      'replica-set': etcdReplicaSetClient,
      'list-append': etcdTxnClient('list-append', etcdErrors),
      'rw-register': etcdTxnClient('rw-register', etcdErrors),
    },
    leader: etcdLeader,
    membership: etcdMembership,
    preflight() {
      return existsSync(ETCD_BINARY)
        ? undefined
        : `etcd is not installed (${ETCD_BINARY} is missing): run \`sh scripts/ensure-etcd.sh\` (as root)`;
    },
  });
}

export const etcd: SystemDefinition = etcdSystem();
export default etcd;
