/** The transport's own messages, validated on arrival; request bodies are the cluster's business. */
import { z } from 'zod';
import { NODE_ID_PATTERN } from '../config.js';

export const PROTOCOL_VERSION = 1;

/** A handshake nonce: 16 random bytes, hex. */
export const NONCE_PATTERN = /^[0-9a-f]{32}$/;
/** An HMAC-SHA256 proof, hex. */
export const PROOF_PATTERN = /^[0-9a-f]{64}$/;

const nodeId = z.string().regex(NODE_ID_PATTERN);

export const envelopeSchema = z.discriminatedUnion('t', [
  /** Dialer → acceptor: who is calling whom; `nonce` is the dialer's challenge (with a secret). */
  z.object({
    t: z.literal('hello'),
    v: z.number().int(),
    from: nodeId,
    to: nodeId,
    nonce: z.string().regex(NONCE_PATTERN).optional(),
  }),
  /** Acceptor → dialer (with a secret): the acceptor's proof and its own challenge. */
  z.object({
    t: z.literal('challenge'),
    nonce: z.string().regex(NONCE_PATTERN),
    proof: z.string().regex(PROOF_PATTERN),
  }),
  /** Dialer → acceptor (with a secret): the dialer's proof. */
  z.object({ t: z.literal('auth'), proof: z.string().regex(PROOF_PATTERN) }),
  z.object({ t: z.literal('welcome'), from: nodeId }),
  z.object({ t: z.literal('req'), id: z.number().int().nonnegative(), body: z.unknown() }),
  z.object({
    t: z.literal('res'),
    id: z.number().int().nonnegative(),
    ok: z.boolean(),
    body: z.unknown().optional(),
    error: z.string().optional(),
  }),
  z.object({ t: z.literal('ping') }),
  z.object({ t: z.literal('pong') }),
]);

export type Envelope = z.infer<typeof envelopeSchema>;

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNodeId = (v: unknown): v is string => typeof v === 'string' && NODE_ID_PATTERN.test(v);
const matches = (v: unknown, pattern: RegExp): v is string =>
  typeof v === 'string' && pattern.test(v);

/**
 * Validates one decoded frame as an envelope: the same rules as envelopeSchema (unknown fields
 * dropped), written out by hand because it runs for every frame on the hot path.
 */
export function parseEnvelope(raw: unknown): Envelope | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m.t) {
    case 'req':
      return isId(m.id) && 'body' in m ? { t: 'req', id: m.id, body: m.body } : undefined;
    case 'res': {
      if (!isId(m.id) || typeof m.ok !== 'boolean') return undefined;
      if (m.error !== undefined && typeof m.error !== 'string') return undefined;
      const res: Envelope = { t: 'res', id: m.id, ok: m.ok };
      if (m.body !== undefined) res.body = m.body;
      if (m.error !== undefined) res.error = m.error;
      return res;
    }
    case 'ping':
      return { t: 'ping' };
    case 'pong':
      return { t: 'pong' };
    case 'hello': {
      if (!Number.isSafeInteger(m.v) || !isNodeId(m.from) || !isNodeId(m.to)) return undefined;
      const hello: Envelope = { t: 'hello', v: m.v as number, from: m.from, to: m.to };
      if (m.nonce === undefined) return hello;
      return matches(m.nonce, NONCE_PATTERN) ? { ...hello, nonce: m.nonce } : undefined;
    }
    case 'challenge':
      return matches(m.nonce, NONCE_PATTERN) && matches(m.proof, PROOF_PATTERN)
        ? { t: 'challenge', nonce: m.nonce, proof: m.proof }
        : undefined;
    case 'auth':
      return matches(m.proof, PROOF_PATTERN) ? { t: 'auth', proof: m.proof } : undefined;
    case 'welcome':
      return isNodeId(m.from) ? { t: 'welcome', from: m.from } : undefined;
    default:
      return undefined;
  }
}
