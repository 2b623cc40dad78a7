/**
 * Reading a transaction's value, a list of micro-ops such as `["append", "x", 3]` or
 * `["r", "x", [1, 2]]`. Function names may carry EDN's colon (`":append"`). A micro-op of a
 * kind the workload does not know is not an input error: Elle calls the history unknown.
 */
import { z } from 'zod';
import { keySchema } from '../history/index.js';
import type { MicroOp, Scalar, Workload } from './types.js';

const scalarSchema = z.union([z.string(), z.number(), z.bigint()]);
const listSchema = z.array(scalarSchema);

const rawMicroOpSchema = z.tuple([z.string(), keySchema, z.unknown()]);
/** A transaction: a list of micro-ops. */
export const rawTxnSchema = z.array(rawMicroOpSchema);

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint';
const isKey = isScalar;

/**
 * The fast path of `rawTxnSchema`: true when `v` has the schema's shape (checked by hand, as
 * zod costs a third of a large history's reading); false sends it to zod for the wording.
 */
export function looksLikeTxn(v: unknown): v is [string, MicroOp['key'], unknown][] {
  if (!Array.isArray(v)) return false;
  for (const m of v) {
    if (!Array.isArray(m) || m.length !== 3 || typeof m[0] !== 'string' || !isKey(m[1])) {
      return false;
    }
  }
  return true;
}

function isScalarList(v: unknown): v is Scalar[] {
  if (!Array.isArray(v)) return false;
  for (const x of v) if (!isScalar(x)) return false;
  return true;
}

const NAMES: Record<Workload, ReadonlySet<string>> = {
  'list-append': new Set(['append', 'r']),
  'rw-register': new Set(['w', 'r']),
};

/**
 * The micro-op, or the name of its function when the workload does not know it. Throws a zod
 * error when the value has the wrong shape for its function.
 */
export function parseMicroOp(
  raw: readonly [string, MicroOp['key'], unknown],
  workload: Workload,
): MicroOp | string {
  const f = raw[0].charCodeAt(0) === 58 ? raw[0].slice(1) : raw[0]; // 58: ':'
  if (!NAMES[workload].has(f)) return f;
  const key = raw[1];
  const v = raw[2];
  if (f === 'r') {
    if (v === null || v === undefined) return { f, key, value: null };
    if (workload === 'list-append') {
      return { f, key, value: isScalarList(v) ? v : listSchema.parse(v) };
    }
    return { f, key, value: isScalar(v) ? v : scalarSchema.parse(v) };
  }
  const value = isScalar(v) ? v : scalarSchema.parse(v);
  return f === 'append' ? { f, key, value } : { f: 'w', key, value };
}
