/**
 * Node-to-node requests and their replies. Every body that arrives from a peer is validated
 * here before it touches state; a request that fails validation gets the peer disconnected.
 */
import { z } from 'zod';
import { MAX_MEMBERS, NODE_ID_PATTERN } from '../config.js';
import {
  AcceptReplySchema,
  NodeIdSchema,
  PaxosRequestSchema,
  PrepareReplySchema,
  RecordItemSchema,
  RecordTypeSchema,
  StateSchema,
} from '../replica/types.js';

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

export const PeerRequestSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('gossip'),
    hb: HeartbeatTableSchema,
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
  /** Bucket digests of the records both nodes replicate; answered with the differing buckets. */
  z.object({ t: z.literal('ae-summary'), buckets: z.array(z.string()).length(AE_BUCKETS) }),
  /** Fetch the states of these records. */
  z.object({
    t: z.literal('ae-fetch'),
    keys: z.array(z.tuple([RecordTypeSchema, Key])).max(MAX_BATCH),
  }),
]);
export type PeerRequest = z.infer<typeof PeerRequestSchema>;

export const GossipReplySchema = z.object({ hb: HeartbeatTableSchema });
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
