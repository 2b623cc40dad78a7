/**
 * Node settings: every setting is a command-line flag (`--anti-entropy-interval 500`) and the same
 * environment variable (`LEADERLESS_ANTI_ENTROPY_INTERVAL=500`); a flag beats the variable.
 * Everything is validated with zod; a bad value throws a ConfigError naming the flag.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';

export type NodeId = string;

export interface HostPort {
  host: string;
  port: number;
}

export interface Config {
  id: NodeId;
  listen: HostPort;
  peerListen: HostPort;
  /** How THIS node reaches each member (self included when given), keyed by node id. */
  peers: Map<NodeId, HostPort>;
  /**
   * The initial members, sorted: the ids of --peers plus this node (without it when joining).
   * The membership table kept in the data dir supersedes them once it knows more.
   */
  members: NodeId[];
  /** How this node reaches every node that may ever be a member (--pool and --peers). */
  pool: Map<NodeId, HostPort>;
  /** Started to be added to a running cluster (--join): not a member until admitted. */
  join: boolean;
  /** Whether ranges are streamed on join and leave (off is unsafe: it loses data). */
  handoffStreaming: boolean;
  dataDir: string;
  n: number;
  r: number;
  w: number;
  vnodes: number;
  conflict: 'lww' | 'siblings';
  storage: 'disk' | 'memory';
  fsync: 'always' | 'interval' | 'never';
  fsyncIntervalMs: number;
  readRepair: boolean;
  hintedHandoff: boolean;
  antiEntropyIntervalMs: number;
  requestTimeoutMs: number;
  gossipIntervalMs: number;
  suspectTimeoutMs: number;
  phiThreshold: number;
  maxBodyBytes: number;
  /** Most open client connections. */
  maxConnections: number;
  /** Most request-body bytes all client connections may hold together. */
  maxBufferedBytes: number;
  /** Longest a started client request may take to arrive (ms). */
  readTimeoutMs: number;
  /** Shared secret peers must prove in their handshake (undefined: peers are not authenticated). */
  clusterSecret: string | undefined;
  logLevel: 'debug' | 'info' | 'warn';
}

export class ConfigError extends Error {}

/** Flag name → description; the env variable is LEADERLESS_ + the flag upper-cased with _. */
export const SETTINGS = {
  id: 'this node id (must appear in --peers or is added to the membership)',
  listen: 'HOST:PORT serving clients (HTTP/1.1, JSON)',
  'peer-listen': 'HOST:PORT serving other nodes (framed TCP)',
  peers: 'id=HOST:PORT,... how this node reaches every member (self entry optional)',
  'data-dir': 'directory for the log, snapshots and the membership table',
  pool: 'id=HOST:PORT,... every node that may join later (default: --peers)',
  join: 'on | off (default off): start as a node to be added (POST /admin/join) to a running cluster',
  'handoff-streaming':
    'on | off (default on); off skips moving data on join/leave: UNSAFE, loses acknowledged writes',
  n: 'replication factor (default 3)',
  r: 'default read quorum (default majority of N)',
  w: 'default write quorum (default majority of N)',
  vnodes: 'virtual nodes per member on the hash ring (default 64)',
  conflict: 'lww | siblings (default lww)',
  storage: 'disk | memory (default disk)',
  fsync: 'always | interval | never (default always)',
  'fsync-interval': 'ms between fsyncs with --fsync interval (default 100)',
  'read-repair': 'on | off (default on)',
  'hinted-handoff': 'on | off (default on): sloppy quorums with hints',
  'anti-entropy-interval': 'ms between anti-entropy rounds, 0 disables (default 1000)',
  'request-timeout': 'ms a coordinated client operation may take (default 2000)',
  'gossip-interval': 'ms between heartbeat gossip rounds (default 200)',
  'suspect-timeout': 'ms without a fresh heartbeat before a peer is suspected (default 2000)',
  'phi-threshold': 'phi-accrual suspicion threshold (default 8)',
  'max-body': 'largest accepted HTTP body in bytes (default 1048576)',
  'max-connections': 'most open client connections; more are answered 503 (default 2048)',
  'max-buffered':
    'most request-body bytes all client connections hold together; more: 503 (default 67108864)',
  'read-timeout': 'ms a started client request may take to arrive; then 408 (default 10000)',
  'cluster-secret':
    'shared secret peers prove in their handshake (HMAC); unset = no authentication',
  'log-level': 'debug | info | warn (default info)',
} as const;

type Flag = keyof typeof SETTINGS;

export function envName(flag: string): string {
  return 'LEADERLESS_' + flag.toUpperCase().replaceAll('-', '_');
}

const hostPort = z.string().transform((s, ctx): HostPort => {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port < 0 || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `expected HOST:PORT, got ${JSON.stringify(s)}` });
    return z.NEVER;
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
});

/** Most members of a cluster (gossip tables are bounded by it too). */
export const MAX_MEMBERS = 256;

/** What a node id looks like (peers' handshakes and gossip are checked against it too). */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

const nodeIdSchema = z.string().regex(NODE_ID_PATTERN, 'node ids are 1-64 of [A-Za-z0-9_.-]');

const peersSchema = z.string().transform((s, ctx) => {
  const out = new Map<NodeId, HostPort>();
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const id = nodeIdSchema.safeParse(eq > 0 ? part.slice(0, eq) : '');
    const addr = hostPort.safeParse(part.slice(eq + 1));
    if (eq <= 0 || !id.success || !addr.success) {
      ctx.addIssue({
        code: 'custom',
        message: `bad entry ${JSON.stringify(part)} (want id=HOST:PORT)`,
      });
      return z.NEVER;
    }
    if (out.has(id.data)) {
      ctx.addIssue({ code: 'custom', message: `node ${id.data} listed twice` });
      return z.NEVER;
    }
    out.set(id.data, addr.data);
  }
  if (out.size === 0) {
    ctx.addIssue({ code: 'custom', message: 'no peers given' });
    return z.NEVER;
  }
  return out;
});

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const onOff = z.enum(['on', 'off']).transform((v) => v === 'on');

const fields = {
  id: nodeIdSchema,
  listen: hostPort,
  'peer-listen': hostPort,
  peers: peersSchema,
  'data-dir': z.string().min(1),
  pool: peersSchema,
  join: onOff,
  'handoff-streaming': onOff,
  n: int(1, 64),
  r: int(1, 64),
  w: int(1, 64),
  vnodes: int(1, 4096),
  conflict: z.enum(['lww', 'siblings']),
  storage: z.enum(['disk', 'memory']),
  fsync: z.enum(['always', 'interval', 'never']),
  'fsync-interval': int(1, 60_000),
  'read-repair': onOff,
  'hinted-handoff': onOff,
  'anti-entropy-interval': int(0, 3_600_000),
  'request-timeout': int(10, 600_000),
  'gossip-interval': int(10, 60_000),
  'suspect-timeout': int(50, 600_000),
  'phi-threshold': z.string().transform(Number).pipe(z.number().min(0.5).max(100)),
  'max-body': int(64, 1 << 30),
  'max-connections': int(1, 1_000_000),
  'max-buffered': int(64, 2 ** 40),
  'read-timeout': int(10, 3_600_000),
  'cluster-secret': z.string().min(1).max(4096),
  'log-level': z.enum(['debug', 'info', 'warn']),
} satisfies Record<Flag, z.ZodType>;

const REQUIRED: Flag[] = ['id', 'listen', 'peer-listen', 'peers', 'data-dir'];

/** Parses argv (without node and script) and env into a validated Config, or throws ConfigError. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      Object.keys(SETTINGS).map((k) => [k, { type: 'string' as const }]),
    );
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new ConfigError(e instanceof Error ? e.message : String(e));
  }
  const raw = new Map<Flag, string>();
  for (const flag of Object.keys(SETTINGS) as Flag[]) {
    const v = values[flag] ?? env[envName(flag)];
    if (typeof v === 'string') raw.set(flag, v);
  }
  for (const flag of REQUIRED) {
    if (!raw.has(flag)) throw new ConfigError(`--${flag} is required (or ${envName(flag)})`);
  }
  const get = <F extends Flag>(flag: F, fallback: string): z.output<(typeof fields)[F]> => {
    const value = raw.get(flag) ?? fallback;
    const parsed = fields[flag].safeParse(value);
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => i.message).join('; ');
      throw new ConfigError(`--${flag} ${JSON.stringify(value)}: ${msg}`);
    }
    return parsed.data as z.output<(typeof fields)[F]>;
  };
  const id = get('id', '');
  const peers = get('peers', '');
  const join = get('join', 'off');
  const members = [...new Set([...peers.keys(), id])].filter((m) => !(join && m === id)).sort();
  const pool = new Map(raw.has('pool') ? get('pool', '') : []);
  for (const [peer, addr] of peers) pool.set(peer, addr);
  if (pool.size + 1 > MAX_MEMBERS) {
    throw new ConfigError(`--pool: at most ${MAX_MEMBERS} nodes (got ${pool.size + 1})`);
  }
  const n = get('n', '3');
  if (n > members.length + (join ? 1 : 0)) {
    throw new ConfigError(`--n ${n}: larger than the membership (${members.length} nodes)`);
  }
  const majority = String(Math.floor(n / 2) + 1);
  const r = get('r', majority);
  const w = get('w', majority);
  if (members.length > MAX_MEMBERS) {
    throw new ConfigError(`--peers: at most ${MAX_MEMBERS} members (got ${members.length})`);
  }
  if (r > n) throw new ConfigError(`--r ${r}: larger than --n ${n}`);
  if (w > n) throw new ConfigError(`--w ${w}: larger than --n ${n}`);
  const maxBodyBytes = get('max-body', '1048576');
  const maxBufferedBytes = get('max-buffered', String(64 * 1024 * 1024));
  if (maxBufferedBytes < maxBodyBytes) {
    throw new ConfigError(
      `--max-buffered ${maxBufferedBytes}: smaller than --max-body ${maxBodyBytes} (no largest body could be read)`,
    );
  }
  return {
    id,
    listen: get('listen', ''),
    peerListen: get('peer-listen', ''),
    peers,
    members,
    pool,
    join,
    handoffStreaming: get('handoff-streaming', 'on'),
    dataDir: get('data-dir', ''),
    n,
    r,
    w,
    vnodes: get('vnodes', '64'),
    conflict: get('conflict', 'lww'),
    storage: get('storage', 'disk'),
    fsync: get('fsync', 'always'),
    fsyncIntervalMs: get('fsync-interval', '100'),
    readRepair: get('read-repair', 'on'),
    hintedHandoff: get('hinted-handoff', 'on'),
    antiEntropyIntervalMs: get('anti-entropy-interval', '1000'),
    requestTimeoutMs: get('request-timeout', '2000'),
    gossipIntervalMs: get('gossip-interval', '200'),
    suspectTimeoutMs: get('suspect-timeout', '2000'),
    phiThreshold: get('phi-threshold', '8'),
    maxBodyBytes,
    maxConnections: get('max-connections', '2048'),
    maxBufferedBytes,
    readTimeoutMs: get('read-timeout', '10000'),
    clusterSecret: raw.has('cluster-secret') ? get('cluster-secret', '') : undefined,
    logLevel: get('log-level', 'info'),
  };
}
