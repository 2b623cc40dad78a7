/** Client request bodies and query parameters, validated with zod; errors name the field. */
import { z } from 'zod';
import type { Json } from './reply.js';

export const MAX_JSON_DEPTH = 64;

function depthOk(v: unknown, depth: number): boolean {
  if (depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(v)) return v.every((x) => depthOk(x, depth + 1));
  if (v !== null && typeof v === 'object') {
    return Object.values(v).every((x) => depthOk(x, depth + 1));
  }
  return true;
}

/** Any JSON value (bodies come from JSON.parse, so only the presence and depth need checks). */
export const jsonValue = z.custom<Json>(
  (v) => v !== undefined && depthOk(v, 0),
  `a JSON value nested at most ${MAX_JSON_DEPTH} deep is required`,
);

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
export const linCasBody = z.strictObject({ from: jsonValue, to: jsonValue });

export function describeZodError(e: z.ZodError): string {
  return e.issues
    .map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}
