/**
 * Hand-written validation of the peer messages on the hot path of eventual kv operations in
 * `lww` mode (a `merge` of lww states, a `get`, and their replies). Each function accepts only
 * inputs its zod schema in messages.ts accepts and returns the same value the schema would; for
 * anything else (other states, any doubt) it returns undefined and the caller runs the zod
 * schema, which stays the single source of truth and produces the error message. The property
 * test in fast-parse.test.ts checks that agreement on generated and mutated inputs.
 */
import { isJsonValue, type LwwState, type RecordItem } from '../replica/types.js';
import { MAX_BATCH, type PeerRequest } from './messages.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNodeId = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= 200;
const isKey = (v: unknown): v is string => typeof v === 'string' && v.length <= 4096;
const isRecordType = (v: unknown): v is RecordItem['type'] =>
  v === 'kv' || v === 'set' || v === 'counter';

function lwwState(v: unknown): LwwState | undefined {
  if (!isObj(v) || v.t !== 'lww') return undefined;
  const { ts, node, seq, deleted, value } = v;
  if (!isCount(ts) || !isNodeId(node) || !isCount(seq) || typeof deleted !== 'boolean') {
    return undefined;
  }
  if (!('value' in v) || !isJsonValue(value, 0)) return undefined;
  return { t: 'lww', ts, node, seq, deleted, value: value as LwwState['value'] };
}

function recordItem(v: unknown): RecordItem | undefined {
  if (!isObj(v) || !isRecordType(v.type) || !isKey(v.key)) return undefined;
  const state = lwwState(v.state);
  return state ? { type: v.type, key: v.key, state } : undefined;
}

/** `hintFor` when present must be a node id; absent stays absent (explicit undefined: zod decides). */
function withHint<T extends Obj>(out: T, v: Obj): T | undefined {
  if (!('hintFor' in v)) return out;
  if (!isNodeId(v.hintFor)) return undefined;
  return { ...out, hintFor: v.hintFor };
}

/** PeerRequestSchema's result for a `merge` of lww states or a `get`; undefined otherwise. */
export function fastPeerRequest(v: unknown): PeerRequest | undefined {
  if (!isObj(v)) return undefined;
  if (v.t === 'get') {
    if (!isRecordType(v.type) || !isKey(v.key)) return undefined;
    return withHint({ t: 'get' as const, type: v.type, key: v.key }, v);
  }
  if (v.t === 'merge') {
    const raw = v.items;
    if (!Array.isArray(raw) || raw.length > MAX_BATCH) return undefined;
    const items: RecordItem[] = [];
    for (const x of raw) {
      const item = recordItem(x);
      if (!item) return undefined;
      items.push(item);
    }
    return withHint({ t: 'merge' as const, items }, v);
  }
  return undefined;
}

/** MergeReplySchema's result; undefined when the zod schema must decide. */
export function fastMergeReply(v: unknown): { ok: true } | undefined {
  return isObj(v) && v.ok === true ? { ok: true } : undefined;
}

/** GetReplySchema's result for an absent or lww state; undefined otherwise. */
export function fastGetReply(v: unknown): { state: LwwState | null } | undefined {
  if (!isObj(v) || !('state' in v)) return undefined;
  if (v.state === null) return { state: null };
  const state = lwwState(v.state);
  return state ? { state } : undefined;
}
