import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ClientFactory, Op, QuorumOp } from '../../core/client.js';
import {
  ErrorRegistry,
  failedRead,
  hasCode,
  OpError,
  ReadFailed,
  readFailureRules,
} from '../../core/client.js';
import type { HostPort, NodeId, SystemRecipe } from '../../core/cluster.js';
import { HttpJsonClient, HttpStatusError } from '../../core/http-json.js';
import type { MembershipHooks, MembershipView, SystemDefinition } from '../../core/system.js';
import { defineSystem } from '../../core/system.js';

/** The store's bundle, built by `npm run build` (found from source and from dist/). */
export function leaderlessBinary(): string {
  // From source: beside this file; from dist/cluster-images/leaderless/: three levels up.
  for (const rel of [
    './dist/leaderless.js',
    '../../../cluster-images/leaderless/dist/leaderless.js',
  ]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return fileURLToPath(new URL('./dist/leaderless.js', import.meta.url));
}

const hostPort = (a: HostPort) =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;

/**
 * Which leaderless answers mean "certainly not applied": every 4xx (the store documents 409 cas
 * precondition failed, 412 too few replicas so nothing was sent, 400/404/405/413 rejected), and a
 * refused connection (the request never reached the node), and a 503 whose body says
 * `outcome: "failed"` (the node refused it before reading it: too many connections, or no room
 * for its body). Other 5xx, resets and timeouts stay unknown. 412, the refusing 503 and a refused
 * connection are the store being unavailable; 409 is an answer.
 */
export const leaderlessErrors = new ErrorRegistry([
  {
    name: 'refused: node at its limits',
    type: 'fail',
    unavailable: true,
    match: (e) =>
      e instanceof HttpStatusError &&
      e.status === 503 &&
      (e.body as { outcome?: unknown } | null)?.outcome === 'failed',
  },
  {
    name: 'cas precondition failed',
    type: 'fail',
    match: (e) => e instanceof HttpStatusError && e.status === 409,
  },
  {
    name: 'too few replicas reachable',
    type: 'fail',
    unavailable: true,
    match: (e) => e instanceof HttpStatusError && e.status === 412,
  },
  {
    name: 'rejected',
    type: 'fail',
    match: (e) => e instanceof HttpStatusError && e.status >= 400 && e.status < 500,
  },
  {
    name: 'connection refused',
    type: 'fail',
    unavailable: true,
    match: (e) => hasCode(e, 'ECONNREFUSED'),
  },
  {
    name: 'unknown op',
    type: 'fail',
    match: (e) => e instanceof OpError && e.code === 'unsupported',
  },
]);

const path = (kind: string, key: unknown) => `/${kind}/${encodeURIComponent(String(key))}`;

/** The `register` API: CASPaxos read / write / cas on `/lin/:key`. */
export const leaderlessRegisterClient: ClientFactory<Op> = {
  errors: leaderlessErrors,
  open(_node, address) {
    const http = new HttpJsonClient(address);
    return {
      async invoke(op, signal) {
        const key = op.key ?? 'r';
        switch (op.f) {
          case 'read': {
            const body = (await http.call('GET', path('lin', key), undefined, signal)) as {
              value?: unknown;
            };
            return { value: body.value ?? null };
          }
          case 'write':
            await http.call('PUT', path('lin', key), { value: op.value }, signal);
            return {};
          case 'cas': {
            const [from, to] = op.value as [unknown, unknown];
            await http.call('POST', `${path('lin', key)}/cas`, { from, to }, signal);
            return {};
          }
          default:
            throw new OpError('unsupported', `the register client has no operation ${op.f}`);
        }
      },
      async close() {
        http.close();
      },
    };
  },
};

/** Whether the store's table calls `e` an outage: unknown (5xx, reset, ...) or refused for want of nodes. */
function outage(e: unknown): boolean {
  const c = leaderlessErrors.classify(e);
  return c.type === 'info' || c.unavailable === true;
}

/**
 * The eventual clients' registry: the store's table, plus failed reads as `fail` (unavailable
 * unless the cause was a definite answer, e.g. a 400 for a bad request).
 */
export const leaderlessEventualErrors = new ErrorRegistry([
  ...leaderlessErrors.rules,
  // Reads change nothing: an eventual read that failed in any way is certainly "not applied".
  ...readFailureRules(outage),
]);

function quorumQuery(op: QuorumOp, param: 'r' | 'w'): string {
  const q = op[param];
  return q === undefined ? '' : `?${param}=${q}`;
}

const replyNumber = (body: unknown, field: string): number | undefined => {
  const v = (body as Record<string, unknown> | null)?.[field];
  return typeof v === 'number' ? v : undefined;
};

/**
 * The eventual kv client (`/kv/:key`): `read` returns the array of values read ([] when absent);
 * `write` PUTs the value with the causal context of this client's last read of the key, if any
 * (siblings mode: the write supersedes exactly the siblings that read saw, as a read-modify-write
 * client would; lww contexts are empty and not sent). A write's completion carries `ts` when the
 * store's reply reports the lww timestamp.
 */
export const leaderlessKvClient: ClientFactory<Op> = {
  errors: leaderlessEventualErrors,
  open(_node, address) {
    const http = new HttpJsonClient(address);
    /** key → the context of this client's last ok read of it (one worker uses a client). */
    const contexts = new Map<string, string>();
    return {
      async invoke(op: QuorumOp, signal) {
        const key = op.key ?? 'k';
        switch (op.f) {
          case 'read': {
            const body = (await failedRead(signal, () =>
              http.call('GET', `${path('kv', key)}${quorumQuery(op, 'r')}`, undefined, signal),
            )) as { values?: unknown; context?: unknown } | null;
            if (typeof body?.context === 'string' && body.context !== '') {
              contexts.set(String(key), body.context);
            }
            const values = body?.values;
            return { value: Array.isArray(values) ? values : [] };
          }
          case 'write': {
            const context = contexts.get(String(key));
            const body = await http.call(
              'PUT',
              `${path('kv', key)}${quorumQuery(op, 'w')}`,
              context === undefined ? { value: op.value } : { value: op.value, context },
              signal,
            );
            const ts = replyNumber(body, 'ts');
            return ts === undefined ? {} : { extra: { ts } };
          }
          default:
            throw new OpError('unsupported', `the kv client has no operation ${op.f}`);
        }
      },
      async close() {
        http.close();
      },
    };
  },
};

/** The OR-set client (`/set/:key`): `add` / `remove` an element, `read` the elements. */
export const leaderlessSetClient: ClientFactory<Op> = {
  errors: leaderlessEventualErrors,
  open(_node, address) {
    const http = new HttpJsonClient(address);
    return {
      async invoke(op: QuorumOp, signal) {
        const key = op.key ?? 's';
        switch (op.f) {
          case 'read': {
            const body = await failedRead(signal, () =>
              http.call('GET', `${path('set', key)}${quorumQuery(op, 'r')}`, undefined, signal),
            );
            const value = (body as { value?: unknown } | null)?.value;
            return { value: Array.isArray(value) ? value : [] };
          }
          case 'add':
          case 'remove':
            await http.call(
              'POST',
              `${path('set', key)}${quorumQuery(op, 'w')}`,
              { [op.f]: op.value },
              signal,
            );
            return {};
          default:
            throw new OpError('unsupported', `the set client has no operation ${op.f}`);
        }
      },
      async close() {
        http.close();
      },
    };
  },
};

/** The PN-counter client (`/counter/:key`): `add` a delta (any integer), `read` the number. */
export const leaderlessCounterClient: ClientFactory<Op> = {
  errors: leaderlessEventualErrors,
  open(_node, address) {
    const http = new HttpJsonClient(address);
    return {
      async invoke(op: QuorumOp, signal) {
        const key = op.key ?? 'c';
        switch (op.f) {
          case 'read': {
            const body = await failedRead(signal, () =>
              http.call('GET', `${path('counter', key)}${quorumQuery(op, 'r')}`, undefined, signal),
            );
            const value = replyNumber(body, 'value');
            if (value === undefined) throw new ReadFailed(new Error('no numeric value'));
            return { value };
          }
          case 'add':
            await http.call(
              'POST',
              `${path('counter', key)}${quorumQuery(op, 'w')}`,
              { delta: op.value },
              signal,
            );
            return {};
          default:
            throw new OpError('unsupported', `the counter client has no operation ${op.f}`);
        }
      },
      async close() {
        http.close();
      },
    };
  },
};

/** The replica state of one key as the convergence checker reads it (contract of issue 7). */
export type ReplicaState =
  | { values: unknown[]; ts?: number[] }
  | { elements: unknown[] }
  | { value: number };

/** A key's state in a replica-read answer: with the nodes that own the key, by the node's ring. */
export type OwnedReplicaState = ReplicaState & { owners?: string[] };

/** The record types `/admin/replica` lists that a replica reader may select. */
export type ReplicaRecordType = 'kv' | 'set' | 'counter';

/** One line of `/admin/replica`. */
const replicaLineSchema = z.object({
  type: z.enum(['kv', 'set', 'counter', 'lin']),
  key: z.string(),
  /** The key's preference list (absent from a store older than the field). */
  owners: z.array(z.string().min(1)).optional(),
  /** Set on a hint this node holds for that owner (the node neither owns nor stores the key). */
  hintFor: z.string().optional(),
  view: z.unknown(),
  raw: z.unknown(),
});
const kvViewSchema = z.object({ values: z.array(z.unknown()) }).loose();
/** The lww raw state: the value's version carries the coordinator's wall-clock ms, `ts`. */
const lwwRawSchema = z
  .object({ t: z.literal('lww'), ts: z.number(), deleted: z.boolean() })
  .loose();

/**
 * A replica record as the contract's state: kv → `{values, ts?}` (lww: the live value and its
 * `raw.ts`; a tombstone holds no value; siblings: every sibling), set → `{elements}`, counter →
 * `{value}`. Throws (naming the line) on a record that does not have its type's shape.
 */
export function replicaStateOf(line: z.infer<typeof replicaLineSchema>): ReplicaState {
  const where = `/admin/replica ${line.type} record ${JSON.stringify(line.key)}`;
  switch (line.type) {
    case 'kv': {
      const view = kvViewSchema.safeParse(line.view);
      if (!view.success) throw new Error(`${where}: view has no values array`);
      const lww = lwwRawSchema.safeParse(line.raw);
      if (lww.success) {
        return lww.data.deleted
          ? { values: [], ts: [] }
          : { values: view.data.values, ts: view.data.values.map(() => lww.data.ts) };
      }
      return { values: view.data.values };
    }
    case 'set':
      if (!Array.isArray(line.view)) throw new Error(`${where}: view is not an array`);
      return { elements: line.view };
    case 'counter':
      if (typeof line.view !== 'number') throw new Error(`${where}: view is not a number`);
      return { value: line.view };
    default:
      throw new Error(`${where}: not an eventual record`);
  }
}

/** GET /admin/replica, parsed line by line (the dump can be large: never one JSON.parse). */
function fetchReplica(
  agent: http.Agent,
  address: HostPort,
  type: ReplicaRecordType,
  signal: AbortSignal,
): Promise<Record<string, OwnedReplicaState>> {
  return new Promise((resolve, reject) => {
    const keys: Record<string, OwnedReplicaState> = {};
    const req = http.get(
      { agent, host: address.host, port: address.port, path: '/admin/replica', signal },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new HttpStatusError(res.statusCode ?? 0, undefined));
          return;
        }
        res.setEncoding('utf8');
        let rest = '';
        let lineNo = 0;
        const take = (line: string) => {
          lineNo++;
          if (line.trim() === '') return;
          const parsed = replicaLineSchema.safeParse(JSON.parse(line));
          if (!parsed.success) {
            throw new Error(`/admin/replica line ${lineNo}: ${parsed.error.issues[0]?.message}`);
          }
          const record = parsed.data;
          if (record.type !== type) return;
          // A hint names the key and its owners; a record this node stores wins over it.
          if (record.hintFor !== undefined && keys[record.key] !== undefined) return;
          const state: OwnedReplicaState = replicaStateOf(record);
          if (record.owners !== undefined) state.owners = record.owners;
          keys[record.key] = state;
        };
        res.on('data', (chunk: string) => {
          const lines = (rest + chunk).split('\n');
          rest = lines.pop() ?? '';
          try {
            for (const l of lines) take(l);
          } catch (e) {
            res.destroy();
            reject(e);
          }
        });
        res.on('error', reject);
        res.on('end', () => {
          try {
            take(rest);
            resolve(keys);
          } catch (e) {
            reject(e);
          }
        });
      },
    );
    req.on('error', reject);
  });
}

/**
 * Reads one node's replica directly (`GET /admin/replica`, no coordination) and keeps the records
 * of one type. Op: `{f: "replica-read", value: {node, round}}`; result value: `{node, round, keys}`
 * with each key's state as `replicaStateOf` gives it plus the key's `owners`; a key the node
 * holds only a hint for is listed too (its owners are what matters). Any failure is `fail`: a
 * read changes nothing.
 */
export function leaderlessReplicaReader(type: ReplicaRecordType): ClientFactory<Op> {
  return {
    errors: leaderlessEventualErrors,
    keyOwners: true,
    open(_node, address) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      return {
        async invoke(op, signal) {
          if (op.f !== 'replica-read') {
            throw new OpError('unsupported', `the replica reader has no operation ${op.f}`);
          }
          const keys = await failedRead(signal, () => fetchReplica(agent, address, type, signal));
          const arg = (op.value ?? {}) as Record<string, unknown>;
          return { value: { ...arg, keys } };
        },
        async close() {
          agent.destroy();
        },
      };
    },
  };
}

/** How long a membership change waits for an earlier one to finish before giving up. */
const CHANGE_PATIENCE_MS = 60_000;
/** How long a leaving node may take to hand its data off. */
const HANDOFF_PATIENCE_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Asks the members (other than `node`, in order) to accept a join or leave of `node`, until one
 * accepts. A refusal because another change is still moving ranges (409 "in progress") is asked
 * again until CHANGE_PATIENCE_MS; a node's "already done" answer is an acceptance (200).
 */
async function requestChange(
  view: MembershipView,
  node: NodeId,
  change: 'join' | 'leave',
): Promise<void> {
  const until = Date.now() + CHANGE_PATIENCE_MS;
  for (;;) {
    const errors: string[] = [];
    for (const member of view.members) {
      if (member === node) continue;
      const c = new HttpJsonClient(view.clientAddress(member));
      try {
        await c.call(
          'POST',
          `/admin/${change}`,
          { node },
          AbortSignal.any([view.signal, AbortSignal.timeout(3000)]),
        );
        return;
      } catch (e) {
        errors.push(`${member}: ${e instanceof Error ? e.message : String(e)}`);
        // A definite refusal other than "busy" is the same at every member.
        if (e instanceof HttpStatusError && e.status !== 409 && e.status < 500) {
          throw new Error(`${change} ${node}: ${errors.join('; ')}`);
        }
      } finally {
        c.close();
      }
    }
    if (Date.now() >= until || view.signal.aborted) {
      throw new Error(`${change} ${node}: not accepted (${errors.join('; ')})`);
    }
    await sleep(250);
  }
}

const handoffStateSchema = z
  .object({ status: z.string().nullable(), handoff: z.object({ phase: z.string() }).loose() })
  .loose();

/** `node`'s own membership status and hand-off phase, as `GET /admin/membership` says. */
async function ownStatus(
  view: MembershipView,
  node: NodeId,
): Promise<z.infer<typeof handoffStateSchema>> {
  const c = new HttpJsonClient(view.clientAddress(node));
  try {
    return handoffStateSchema.parse(
      await c.call(
        'GET',
        '/admin/membership',
        undefined,
        AbortSignal.any([view.signal, AbortSignal.timeout(3000)]),
      ),
    );
  } finally {
    c.close();
  }
}

/**
 * Asks for the change until `node` itself reports it (a status in `seen`): a member whose table
 * is behind may answer "already done" for an older change of the same node (e.g. "already left"
 * about a node that has since joined again), so only the node's own word settles it.
 */
async function changeUntilSeen(
  view: MembershipView,
  node: NodeId,
  change: 'join' | 'leave',
  seen: readonly string[],
): Promise<void> {
  const until = Date.now() + CHANGE_PATIENCE_MS;
  let last = 'no answer';
  for (;;) {
    await requestChange(view, node, change);
    const askAgainAt = Date.now() + 2000;
    while (Date.now() < askAgainAt) {
      try {
        const own = await ownStatus(view, node);
        if (own.status !== null && seen.includes(own.status)) return;
        last = String(own.status);
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      if (view.signal.aborted) break;
      await sleep(100);
    }
    if (Date.now() >= until || view.signal.aborted) {
      throw new Error(`${change} ${node}: accepted, but ${node} does not show it (last: ${last})`);
    }
  }
}

/** Waits until `node` reports itself left with its hand-off done (every peer heard it). */
async function waitHandedOff(view: MembershipView, node: NodeId): Promise<void> {
  const until = Date.now() + HANDOFF_PATIENCE_MS;
  let last = 'no answer';
  for (;;) {
    try {
      const body = await ownStatus(view, node);
      if (body.status === 'left' && body.handoff.phase === 'done') return;
      last = `${body.status} (${body.handoff.phase})`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() >= until || view.signal.aborted) {
      throw new Error(`${node} did not finish handing its data off (last: ${last})`);
    }
    await sleep(100);
  }
}

/**
 * Runtime membership through the store's admin API: a node joins by starting (with --join on and
 * the pool) and then being admitted by a member (`POST /admin/join`, answered once accepted; its
 * ranges stream in afterwards; the hook returns once the node itself shows it joining); a node leaves by `POST /admin/leave` at another member, then
 * hands its data off, and is stopped only once it reports the hand-off done. The store keeps
 * at least N members (it refuses a leave below that).
 */
export const leaderlessMembership: MembershipHooks = {
  async join(view, node, start) {
    await start();
    await changeUntilSeen(view, node, 'join', ['joining', 'member']);
  },
  async leave(view, node, stop) {
    await changeUntilSeen(view, node, 'leave', ['leaving', 'left']);
    await waitHandedOff(view, node);
    await stop();
  },
  minMembers: (settings) => {
    const n = Number(settings.n ?? '3');
    return Number.isInteger(n) && n > 0 ? n : 3;
  },
};

const count = (min: number) => z.coerce.number().int('expected a whole number').min(min);
const onOff = z.enum(['on', 'off']);

/** The store's settings (its command-line flags, README "Settings"), as text in, typed out. */
export const leaderlessSettings = z.strictObject({
  n: count(1).default(3),
  r: count(1).optional(),
  w: count(1).optional(),
  vnodes: count(1).optional(),
  conflict: z.enum(['lww', 'siblings']).default('lww'),
  storage: z.enum(['disk', 'memory']).default('disk'),
  fsync: z.enum(['always', 'interval', 'never']).default('always'),
  'fsync-interval': count(1).optional(),
  'read-repair': onOff.optional(),
  'hinted-handoff': onOff.optional(),
  'anti-entropy-interval': count(0).optional(),
  'request-timeout': count(1).optional(),
  'gossip-interval': count(1).optional(),
  'suspect-timeout': count(1).optional(),
  'phi-threshold': z.coerce.number().positive().optional(),
  'max-body': count(1).optional(),
  'max-connections': count(1).optional(),
  'max-buffered': count(64).optional(),
  'read-timeout': count(10).optional(),
  /** Peers' shared secret; by default a random one per definition, i.e. per harness process. */
  'cluster-secret': z.string().min(1).optional(),
  'log-level': z.enum(['debug', 'info', 'warn']).optional(),
  /** UNSAFE when off: joins and leaves move no data (acknowledged writes get lost). */
  'handoff-streaming': onOff.optional(),
});

/**
 * The leaderless store as faultline sees it, through the same public contract a user's system
 * uses: one `node leaderless.js` per node (settings passed as `--flag value`, as given), the
 * bundle's folder copied into the docker image, and the named client APIs.
 */
export function leaderlessSystem(binary = leaderlessBinary()): SystemDefinition {
  // Every node launched through this definition shares it (a harness process makes the built-in
  // definition once), so peers authenticate each other and nothing else on the machine can pose
  // as a member. Given in the environment, not the command line, which `ps` shows to anyone.
  const runSecret = randomBytes(16).toString('hex');
  return defineSystem({
    name: 'leaderless',
    settings: leaderlessSettings,
    local: {
      launch({ node, listen, peerListen, peers, pool, joining, dataDir, given }) {
        const peerList = { ...peers };
        peerList[node] ??= peerListen;
        const args = [
          binary,
          '--id',
          node,
          '--listen',
          hostPort(listen),
          '--peer-listen',
          hostPort(peerListen),
          '--peers',
          Object.entries(peerList)
            .map(([id, a]) => `${id}=${hostPort(a)}`)
            .join(','),
          '--data-dir',
          dataDir,
        ];
        // Nodes that may join later (absent without a pool: static membership, as before).
        const spares = Object.entries(pool).filter(([id]) => peerList[id] === undefined);
        if (spares.length > 0 || joining) {
          args.push(
            '--pool',
            [...Object.entries(peerList), ...spares]
              .map(([id, a]) => `${id}=${hostPort(a)}`)
              .join(','),
          );
        }
        if (joining) args.push('--join', 'on');
        for (const [k, v] of Object.entries(given)) args.push(`--${k}`, v);
        const env: Record<string, string> =
          given['cluster-secret'] === undefined ? { LEADERLESS_CLUSTER_SECRET: runSecret } : {};
        return { command: process.execPath, args, env };
      },
    },
    // The bundle is one folder; the local launch's host paths are mapped onto /opt/leaderless.
    docker: { image: { files: [{ from: dirname(binary), to: '/opt/leaderless' }] } },
    async healthy(client) {
      const c = new HttpJsonClient(client, undefined);
      try {
        const r = await c.request('GET', '/admin/status', undefined, AbortSignal.timeout(500));
        return r.status === 200;
      } catch {
        return false;
      } finally {
        c.close();
      }
    },
    // A Node.js program: Date.now() goes through libc, so libfaketime moves its wall clock (the
    // lww conflict mode orders writes by it).
    clockFaults: true,
    membership: leaderlessMembership,
    clients: {
      register: leaderlessRegisterClient,
      kv: {
        ...leaderlessKvClient,
        conflict: (s) => (s.conflict === 'siblings' ? 'siblings' : 'lww'),
      },
      set: leaderlessSetClient,
      counter: leaderlessCounterClient,
      'replica-kv': leaderlessReplicaReader('kv'),
      'replica-set': leaderlessReplicaReader('set'),
      'replica-counter': leaderlessReplicaReader('counter'),
    },
    // Each key lives on n nodes of the ring (never more than there are nodes).
    replicationFactor: (settings, nodes) => Math.min(settings.n, nodes),
    preflight() {
      return existsSync(binary)
        ? undefined
        : `the leaderless store is not built (${binary} is missing): run \`npm run build\` first`;
    },
  });
}

/** The store's recipe (how a backend starts its nodes), for tests and benchmarks. */
export function leaderlessRecipe(binary = leaderlessBinary()): SystemRecipe {
  return leaderlessSystem(binary).recipe();
}

export const leaderless: SystemDefinition = leaderlessSystem();
export default leaderless;
