/** The transport's own messages, validated on arrival; request bodies are the cluster's business. */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

export const envelopeSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), v: z.number(), from: z.string(), to: z.string() }),
  z.object({ t: z.literal('welcome'), from: z.string() }),
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
    case 'hello':
      return Number.isFinite(m.v) && typeof m.from === 'string' && typeof m.to === 'string'
        ? { t: 'hello', v: m.v as number, from: m.from, to: m.to }
        : undefined;
    case 'welcome':
      return typeof m.from === 'string' ? { t: 'welcome', from: m.from } : undefined;
    default:
      return undefined;
  }
}
