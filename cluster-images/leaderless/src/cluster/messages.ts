/**
 * Node-to-node requests and their replies. Every body that arrives from a peer is validated
 * here before it touches state; a request that fails validation gets the peer disconnected.
 */
import { z } from 'zod';
import { MAX_MEMBERS, NODE_ID_PATTERN } from '../config.js';
import { TRANSITION_PHASES } from '../paxos/transition.js';
import {
  AcceptReplySchema,
  NodeIdSchema,
  PaxosRequestSchema,
  PrepareReplySchema,
  RecordItemSchema,
  RecordTypeSchema,
  StateSchema,
} from '../replica/types.js';
import { STATUSES } from './member-states.js';

/**
 * Anti-entropy splits the keys two nodes share into this many buckets (a 2-level hash tree). Fine
 * buckets keep a round cheap while writes are in flight: only the few buckets holding records
 * still being replicated differ, not nearly all of them.
 */
export const AE_BUCKETS = 4096;
export const MAX_BATCH = 2000;
/** Rough byte budget of one batch of states, far below the transport's frame limit. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Most (type, key, digest) entries one anti-entropy answer lists; the rest waits a round. */
export const MAX_AE_RECORDS = 20_000;

/** Splits items into batches of at most MAX_BATCH items and about MAX_BATCH_BYTES of JSON. */
export function batches<T extends { state: unknown }>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = JSON.stringify(item.state).length + 64;
    if (cur.length > 0 && (cur.length >= MAX_BATCH || bytes + size > MAX_BATCH_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(item);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
const Key = z.string().max(4096);

/**
 * One gossiped heartbeat `[node id, generation, counter]`: an id as `--id` allows, and safe
 * non-negative integers (a generation is a start time in ms, a counter counts gossip rounds).
 */
const HeartbeatSchema = z.tuple([
  z.string().regex(NODE_ID_PATTERN),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
]);
const HeartbeatTableSchema = z.array(HeartbeatSchema).max(MAX_MEMBERS);

/** One membership entry `[node id, status, version]` (see member-states.ts). */
const MemberStateSchema = z.tuple([
  z.string().regex(NODE_ID_PATTERN),
  z.enum(STATUSES),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
]);
const MemberStateTableSchema = z.array(MemberStateSchema).max(MAX_MEMBERS);

/** Most records one hand-off page carries (also bounded by MAX_BATCH_BYTES). */
export const HANDOFF_PAGE = MAX_BATCH;

export const PeerRequestSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('gossip'),
    hb: HeartbeatTableSchema,
    /** The sender's membership table (absent from a node older than dynamic membership). */
    ms: MemberStateTableSchema.optional(),
  }),
  /**
   * A joining node pulls the records it will own: the replier's records whose target owners
   * include `node`, in record-id order after `after`. Served only while the replier knows
   * `node` as joining with at least `version` (else an error: not yet).
   */
  /**
   * Asked by a joining or leaving `node` before it moves data: has the replier heard of its
   * entry at ≥ `version`, and has every write the replier coordinates that started before it
   * heard finished? (Then every write it acknowledges from now on reaches the new owners too.)
   */
  z.object({
    t: z.literal('move-ready'),
    node: z.string().regex(NODE_ID_PATTERN),
    version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  }),
  z.object({
    t: z.literal('handoff-fetch'),
    node: z.string().regex(NODE_ID_PATTERN),
    version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    after: z.string().max(8192).nullable(),
  }),
  /** Join these states into the store, or hold them as hints for `hintFor` (sloppy quorum). */
  z.object({
    t: z.literal('merge'),
    items: z.array(RecordItemSchema).max(MAX_BATCH),
    hintFor: NodeIdSchema.optional(),
  }),
  /** Read one record (plus what is hinted for `hintFor`, when standing in for it). */
  z.object({
    t: z.literal('get'),
    type: RecordTypeSchema,
    key: Key,
    hintFor: NodeIdSchema.optional(),
  }),
  z.object({ t: z.literal('paxos'), req: PaxosRequestSchema }),
  /**
   * Asked by a joining or leaving `node`: use phase `phase` of its change at `version` for the
   * registers whose acceptors change (persist it first), and say whether every CASPaxos
   * operation the replier began before is finished (register-handover.ts).
   */
  z.object({
    t: z.literal('lin-phase'),
    node: z.string().regex(NODE_ID_PATTERN),
    version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    phase: z.number().int().min(1).max(TRANSITION_PHASES),
  }),
  /** The registers the replier holds acceptor state for whose owners change, after `after`. */
  z.object({
    t: z.literal('lin-keys'),
    node: z.string().regex(NODE_ID_PATTERN),
    version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    after: Key.nullable(),
  }),
  /** Bucket digests of the records both nodes replicate; answered with the differing buckets. */
  z.object({ t: z.literal('ae-summary'), buckets: z.array(z.string()).length(AE_BUCKETS) }),
  /** Fetch the states of these records. */
  z.object({
    t: z.literal('ae-fetch'),
    keys: z.array(z.tuple([RecordTypeSchema, Key])).max(MAX_BATCH),
  }),
]);
export type PeerRequest = z.infer<typeof PeerRequestSchema>;

export const GossipReplySchema = z.object({
  hb: HeartbeatTableSchema,
  ms: MemberStateTableSchema.optional(),
});
export const MoveReadyReplySchema = z.object({ ready: z.boolean() });
export const LinPhaseReplySchema = z.object({ ready: z.boolean() });
/** Most register names one `lin-keys` page carries. */
export const LIN_KEYS_PAGE = 2000;
export const LinKeysReplySchema = z.object({
  keys: z.array(Key).max(LIN_KEYS_PAGE),
  /** Pass as `after` for the next page; null when nothing follows. */
  next: Key.nullable(),
});
export const HandoffFetchReplySchema = z.object({
  /** False while the replier does not yet know the node as joining at that version. */
  ready: z.boolean(),
  items: z.array(RecordItemSchema).max(HANDOFF_PAGE),
  /** The last record id of this page (pass as `after`), or null when nothing follows. */
  next: z.string().max(8192).nullable(),
});
export const MergeReplySchema = z.object({ ok: z.literal(true) });
export const GetReplySchema = z.object({ state: StateSchema.nullable() });
export const PaxosReplySchema = z.union([PrepareReplySchema, AcceptReplySchema]);
export const AeSummaryReplySchema = z.object({
  /** For each differing bucket, the replier's (type, key, digest) list in it. */
  diff: z.array(
    z.object({
      bucket: z
        .number()
        .int()
        .min(0)
        .max(AE_BUCKETS - 1),
      records: z.array(z.tuple([RecordTypeSchema, Key, z.string()])),
    }),
  ),
});
export const AeFetchReplySchema = z.object({ items: z.array(RecordItemSchema) });
