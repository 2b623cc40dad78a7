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
