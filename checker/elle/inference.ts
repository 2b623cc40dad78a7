/** What a workload's inference hands to the cycle search and to the report. */
import type { Key } from '../history/index.js';
import type { NonCycleAnomaly } from './anomalies.js';
import type { EdgeCollector } from './graph.js';
import type { Scalar, Txn } from './types.js';

/** A non-cycle anomaly: the txns involved and what is wrong, in words. */
export interface Finding {
  txns: number[];
  key?: Key;
  text: string;
}

export interface Inference {
  /** ww, wr and rw edges between ok and info txns. */
  edges: EdgeCollector;
  findings: Map<NonCycleAnomaly, Finding[]>;
  /** Why the history cannot be judged (duplicate appends, …); empty when it can. */
  unknown: string[];
  /** One data edge in words: why `from` precedes `to` by an edge of kind `kind` (WW, WR, RW). */
  explain(from: number, to: number, kind: number): string;
}

/** Collects findings, a bounded number per anomaly (the count is kept). */
export class Findings {
  readonly map = new Map<NonCycleAnomaly, Finding[]>();
  static readonly LIMIT = 50;

  add(type: NonCycleAnomaly, finding: Finding): void {
    const list = this.map.get(type);
    if (list === undefined) this.map.set(type, [finding]);
    else if (list.length < Findings.LIMIT) list.push(finding);
  }
}

/** Writes keys and values as a reader would type them: strings quoted, numbers bare. */
export function show(v: Key | Scalar | readonly Scalar[] | null | undefined): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return `[${v.map((x) => show(x)).join(' ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

export const txnName = (t: Txn | number): string => `T${typeof t === 'number' ? t : t.id}`;

/** True for txns that may have taken effect, and so belong in the graph. */
export const possible = (t: Txn): boolean => t.status !== 'fail';
