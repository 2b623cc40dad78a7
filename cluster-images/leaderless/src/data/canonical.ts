import { createHash } from 'node:crypto';
import type { Json } from '../replica/types.js';

/**
 * JSON with object keys sorted, so equal values always give the same string (used as OR-set
 * element identity, value tie-break in lww, and digest input).
 */
export function canonicalJson(v: Json): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  const keys = Object.keys(v).sort();
  return (
    '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(v[k] as Json)).join(',') + '}'
  );
}

/** Short stable hash of a canonical string. */
export function hashString(s: string): string {
  return createHash('sha1').update(s).digest('base64url');
}

/** Total order on strings by code unit, the same on every node. */
export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
