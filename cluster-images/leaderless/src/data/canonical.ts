import crypto from 'node:crypto';
import type { Json } from '../replica/types.js';

/**
 * JSON with object keys sorted, so equal values always give the same string (used as OR-set
 * element identity, value tie-break in lww, and digest input).
 */
export function canonicalJson(v: Json): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  // Fast path: when every object's keys already come in sorted order, JSON.stringify writes
  // exactly the canonical form (it emits keys in Object.keys order).
  if (keysSorted(v)) return JSON.stringify(v);
  return sortedJson(v);
}

function keysSorted(v: Json): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) {
    for (const x of v) if (!keysSorted(x)) return false;
    return true;
  }
  let prev: string | undefined;
  for (const k in v) {
    if (prev !== undefined && !(prev < k)) return false;
    prev = k;
    if (!keysSorted(v[k] as Json)) return false;
  }
  return true;
}

function sortedJson(v: Json): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(sortedJson).join(',') + ']';
  const keys = Object.keys(v).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + sortedJson(v[k] as Json)).join(',') + '}';
}

/**
 * One-shot digests: crypto.hash (Node ≥ 20.12) costs about half of createHash for the short
 * strings hashed per write; older Nodes fall back to createHash (same bytes).
 */
const oneShot = typeof crypto.hash === 'function';

export function md5(s: string): Buffer {
  return oneShot ? crypto.hash('md5', s, 'buffer') : crypto.createHash('md5').update(s).digest();
}

/** Short stable hash of a canonical string. */
export function hashString(s: string): string {
  return oneShot
    ? crypto.hash('sha1', s, 'base64url')
    : crypto.createHash('sha1').update(s).digest('base64url');
}

/** Total order on strings by code unit, the same on every node. */
export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A 64-bit non-cryptographic hash of a string as two 32-bit halves (two FNV-1a lanes with
 * different offsets, finished with a murmur3 mix). Cheap enough for per-write bookkeeping.
 */
export function hash64(s: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return [fmix(a ^ b), fmix(b + Math.imul(a, 0x27d4eb2d))];
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
