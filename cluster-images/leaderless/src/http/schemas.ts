/** Client request bodies and query parameters, validated with zod; errors name the field. */
import { z } from 'zod';
import { clientValueProblem } from '../data/json-limits.js';
import type { Json } from './reply.js';

export { MAX_VALUE_DEPTH as MAX_JSON_DEPTH } from '../data/json-limits.js';

/**
 * Any storable JSON value: present, nested at most MAX_VALUE_DEPTH deep, numbers finite and
 * exact (see json-limits.ts); the error names the problem and where in the value it is.
 */
export const jsonValue = z.custom<Json>().superRefine((v, ctx) => {
  const problem = v === undefined ? 'a JSON value is required' : clientValueProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

export const kvPutBody = z.strictObject({ value: jsonValue, context: z.string().optional() });
export const kvDeleteBody = z.strictObject({ context: z.string().optional() });
export const setBody = z.union([
  z.strictObject({ add: jsonValue }),
  z.strictObject({ remove: jsonValue }),
]);
export const counterBody = z.strictObject({
  delta: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
});
export const linPutBody = z.strictObject({ value: jsonValue });
/** `POST /admin/join` and `/admin/leave`: the node to add or take out. */
export const membershipChangeBody = z.strictObject({
  node: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'node ids are 1-64 of [A-Za-z0-9_.-]'),
});
export const linCasBody = z.strictObject({ from: jsonValue, to: jsonValue });

export function describeZodError(e: z.ZodError): string {
  return e.issues
    .map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}
