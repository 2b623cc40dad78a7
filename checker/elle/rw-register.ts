/**
 * rw-register inference. Reads of blind writes reveal little: a read of k=v says only that v's
 * writer precedes the reader (wr, values being unique per key). Version order comes from
 * assumptions: the initial nil precedes every version; within a txn, a write follows the
 * txn's earlier write of the key; and (writes follow reads, on by default) a txn that reads
 * k=a and then writes k=b installs b after a. A cycle in a key's versions is cyclic-versions,
 * and that key's versions are then left unordered. Optionally, as Elle's sequential-keys and
 * linearizable-keys: a txn's versions of a key follow those its process (or, in real time,
 * any txn completed before it began) ended on. Version a < b gives ww (writer of a →
 * writer of b) and rw (each reader of a → writer of b); for the initial nil, rw to the writers
 * of the first known versions only (the rest follow through ww).
 */
import type { Key } from '../history/index.js';
import { EdgeCollector } from './graph.js';
import { Findings, type Inference, possible, show, txnName } from './inference.js';
import { cyclicComponents } from './scc.js';
import { RW, type Scalar, type Txn, WR, WW } from './types.js';

/** The initial, unwritten version. */
const INIT: unique symbol = Symbol('nil');
type Version = Scalar | typeof INIT;

interface VersionEdge {
  to: Version;
  txn: number;
  /**
   * 'read': the txn read the earlier version and then wrote; 'write': it wrote both;
   * 'process' / 'realtime': `earlier`, of the same process or completed before `txn` began,
   * ended on the earlier version and `txn` began with the later one.
   */
  why: 'read' | 'write' | 'process' | 'realtime';
  earlier?: number;
}

interface KeyState {
  writer: Map<Scalar, number>;
  /** Values that their writer overwrote within the same txn. */
  intermediate: Set<Scalar>;
  /** Version → the txns (ok) that read it before touching the key themselves. */
  readers: Map<Version, number[]>;
  after: Map<Version, VersionEdge[]>;
  cyclic: boolean;
}

export interface RwRegisterOptions {
  writesFollowReads: boolean;
  /** Each process sees each key's versions in order (Elle's sequential-keys). */
  sequentialKeys?: boolean;
  /** Real-time order orders each key's versions (Elle's linearizable-keys). */
  linearizableKeys?: boolean;
}

/** The versions of each key an ok txn began and ended on (its first and last op on it). */
type Span = Map<Key, { first: Version; last: Version }>;

function spanOf(t: Txn): Span {
  const span: Span = new Map();
  for (const op of t.ops) {
    const v: Version = op.value === null || Array.isArray(op.value) ? INIT : (op.value as Scalar);
    const seen = span.get(op.key);
    if (seen === undefined) span.set(op.key, { first: v, last: v });
    else seen.last = v;
  }
  return span;
}

/**
 * Calls `order(earlier, later)` for ok txns touching a common key where `earlier` completed
 * before `later` was invoked: per key, only the latest such txns (a frontier, as for realtime
 * edges), the rest following by transitivity.
 */
function realtimePerKey(
  txns: readonly Txn[],
  spans: ReadonlyMap<number, Span>,
  order: (earlier: number, later: number) => void,
): void {
  const points: { at: number; id: number; completes: boolean }[] = [];
  for (const t of txns) {
    if (t.status !== 'ok' || t.invokeIndex === undefined || t.completeIndex === undefined) continue;
    points.push({ at: t.invokeIndex, id: t.id, completes: false });
    points.push({ at: t.completeIndex, id: t.id, completes: true });
  }
  points.sort((a, b) => a.at - b.at);
  const frontier = new Map<Key, number[]>();
  const before = new Map<number, Map<Key, number[]>>();
  for (const p of points) {
    const span = spans.get(p.id)!;
    if (!p.completes) {
      const snapshot = new Map<Key, number[]>();
      for (const k of span.keys()) {
        const f = frontier.get(k) ?? [];
        for (const e of f) order(e, p.id);
        snapshot.set(k, [...f]);
      }
      before.set(p.id, snapshot);
      continue;
    }
    for (const [k, gone] of before.get(p.id) ?? []) {
      frontier.set(k, [...(frontier.get(k) ?? []).filter((e) => !gone.includes(e)), p.id]);
    }
    before.delete(p.id);
  }
}

function keyState(keys: Map<Key, KeyState>, k: Key): KeyState {
  let s = keys.get(k);
  if (s === undefined) {
    s = {
      writer: new Map(),
      intermediate: new Set(),
      readers: new Map(),
      after: new Map(),
      cyclic: false,
    };
    keys.set(k, s);
  }
  return s;
}

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}

const showVersion = (v: Version): string => (v === INIT ? 'nil' : show(v));

/** Why `v` comes before `e.to`, in words. */
function versionReason(v: Version, e: VersionEdge): string {
  const t = txnName(e.txn);
  const earlier = e.earlier === undefined ? '' : txnName(e.earlier);
  switch (e.why) {
    case 'read':
      return `${t} read ${showVersion(v)} and then wrote ${showVersion(e.to)}`;
    case 'write':
      return `${t} wrote ${showVersion(v)} and then ${showVersion(e.to)}`;
    case 'process':
      return `${earlier} ended on ${showVersion(v)} and ${t}, next in its process, began on ${showVersion(e.to)}`;
    case 'realtime':
      return `${earlier} ended on ${showVersion(v)} before ${t} began, on ${showVersion(e.to)}`;
  }
}

export function inferRwRegister(txns: readonly Txn[], options: RwRegisterOptions): Inference {
  const keys = new Map<Key, KeyState>();
  const findings = new Findings();
  const unknown: string[] = [];

  for (const t of txns) {
    const last = new Map<Key, Scalar>();
    for (const op of t.ops) {
      if (op.f !== 'w') continue;
      const s = keyState(keys, op.key);
      const before = last.get(op.key);
      if (before !== undefined) {
        s.intermediate.add(before);
        if (possible(t)) pushTo(s.after, before, { to: op.value, txn: t.id, why: 'write' });
      }
      last.set(op.key, op.value);
      if (s.writer.has(op.value)) {
        if (unknown.length === 0) {
          unknown.push(
            `duplicate-writes: ${show(op.value)} is written to key ${show(op.key)} by both ${txnName(s.writer.get(op.value)!)} and ${txnName(t)}; values must be unique per key`,
          );
        }
        continue;
      }
      s.writer.set(op.value, t.id);
    }
  }

  const ok = (id: number | undefined): id is number => id !== undefined && possible(txns[id]!);
  const edges = new EdgeCollector();
  const rmw = new Map<Key, Map<Version, number[]>>();

  for (const t of txns) {
    if (t.status !== 'ok') continue;
    // What the txn knows of each key it touched: the value it last read or wrote.
    const known = new Map<Key, Version>();
    const firstRead = new Map<Key, Version>();
    const writesLeft = new Map<Key, Set<Scalar>>();
    for (const op of t.ops) {
      if (op.f !== 'w') continue;
      const set = writesLeft.get(op.key);
      if (set === undefined) writesLeft.set(op.key, new Set([op.value]));
      else set.add(op.value);
    }
    for (const op of t.ops) {
      const k = op.key;
      const s = keyState(keys, k);
      if (op.f === 'w') {
        writesLeft.get(k)!.delete(op.value);
        const read = firstRead.get(k);
        if (read !== undefined && known.get(k) === read) {
          // The txn's first write of a key it had read.
          if (options.writesFollowReads)
            pushTo(s.after, read, { to: op.value, txn: t.id, why: 'read' });
          const byVersion = rmw.get(k);
          if (byVersion === undefined) rmw.set(k, new Map([[read, [t.id]]]));
          else pushTo(byVersion, read, t.id);
        }
        known.set(k, op.value);
        continue;
      }
      if (op.f !== 'r' || Array.isArray(op.value)) continue;
      const v: Version = op.value === null ? INIT : (op.value as Scalar);
      const had = known.get(k);
      if (had !== undefined && had !== v) {
        findings.add('internal', {
          txns: [t.id],
          key: k,
          text: `${txnName(t)} read key ${show(k)} as ${showVersion(v)}, but its own earlier ops imply ${showVersion(had)}`,
        });
      }
      if (v !== INIT && writesLeft.get(k)?.has(v)) {
        findings.add('future-read', {
          txns: [t.id],
          key: k,
          text: `${txnName(t)} read key ${show(k)} as ${show(v)}, which it writes only later`,
        });
      }
      if (had === undefined) {
        firstRead.set(k, v);
        pushTo(s.readers, v, t.id);
        if (v !== INIT) {
          const w = s.writer.get(v);
          if (w !== undefined && txns[w]!.status === 'fail') {
            findings.add('G1a', {
              txns: [t.id, w],
              key: k,
              text: `${txnName(t)} read key ${show(k)} as ${show(v)}, written by ${txnName(w)}, which failed`,
            });
          }
          if (ok(w)) {
            edges.add(w, t.id, WR);
            if (s.intermediate.has(v)) {
              findings.add('G1b', {
                txns: [t.id, w],
                key: k,
                text: `${txnName(t)} read key ${show(k)} as ${show(v)}, which ${txnName(w)} wrote but then overwrote itself`,
              });
            }
          }
        }
      }
      known.set(k, v);
    }
  }

  if (options.sequentialKeys || options.linearizableKeys) {
    const spans = new Map<number, Span>();
    for (const t of txns) if (t.status === 'ok') spans.set(t.id, spanOf(t));
    const order = (earlier: number, later: number, why: 'process' | 'realtime') => {
      const next = spans.get(later)!;
      for (const [k, { last }] of spans.get(earlier)!) {
        const first = next.get(k)?.first;
        if (first === undefined || first === last) continue;
        pushTo(keyState(keys, k).after, last, { to: first, txn: later, why, earlier });
      }
    };
    if (options.sequentialKeys) {
      const lastOf = new Map<Txn['process'], number>();
      for (const t of txns) {
        if (t.status !== 'ok') continue;
        const prev = lastOf.get(t.process);
        if (prev !== undefined) order(prev, t.id, 'process');
        lastOf.set(t.process, t.id);
      }
    }
    if (options.linearizableKeys) realtimePerKey(txns, spans, (a, b) => order(a, b, 'realtime'));
  }

  for (const [k, byVersion] of rmw) {
    for (const [v, group] of byVersion) {
      if (group.length < 2) continue;
      findings.add('lost-update', {
        txns: group,
        key: k,
        text: `${group.map((id) => txnName(id)).join(', ')} all read key ${show(k)} as ${showVersion(v)} and then wrote it: all but one update is lost`,
      });
    }
  }

  for (const [k, s] of keys) {
    // A cycle among versions: the assumptions contradict each other on this key.
    const ids = new Map<Version, number>();
    const names: Version[] = [];
    const id = (v: Version) => {
      let i = ids.get(v);
      if (i === undefined) {
        i = names.length;
        ids.set(v, i);
        names.push(v);
      }
      return i;
    };
    const versionEdges = new EdgeCollector();
    for (const [a, list] of s.after) for (const e of list) versionEdges.add(id(a), id(e.to), 1);
    // nil comes first: a version ordered before it closes a cycle.
    for (let i = 0; i < names.length; i++) if (names[i] !== INIT) versionEdges.add(id(INIT), i, 1);
    const cycles = cyclicComponents(versionEdges.build(names.length, 1));
    if (cycles.length > 0) {
      s.cyclic = true;
      const shown = cycles[0]!.map((i) => showVersion(names[i]!));
      findings.add('cyclic-versions', {
        txns: [...new Set([...s.after.values()].flat().map((e) => e.txn))].slice(0, 10),
        key: k,
        text: `the versions of key ${show(k)} form a cycle: ${shown.join(', ')} each must come after another`,
      });
      continue;
    }
    const hasPredecessor = new Set<Version>();
    for (const [a, list] of s.after) {
      for (const e of list) {
        if (a !== INIT) hasPredecessor.add(e.to);
        const wb = e.to === INIT ? undefined : s.writer.get(e.to);
        if (!ok(wb)) continue;
        const wa = a === INIT ? undefined : s.writer.get(a);
        if (ok(wa)) edges.add(wa, wb, WW);
        for (const r of s.readers.get(a) ?? []) edges.add(r, wb, RW);
      }
    }
    for (const r of s.readers.get(INIT) ?? []) {
      for (const [v, w] of s.writer) if (!hasPredecessor.has(v) && ok(w)) edges.add(r, w, RW);
    }
  }

  const explain = (from: number, to: number, kind: number): string => {
    const a = txnName(from);
    const b = txnName(to);
    for (const op of txns[to]!.ops) {
      const s = keys.get(op.key);
      if (s === undefined) continue;
      if (kind === WR && op.f === 'r' && op.value !== null && !Array.isArray(op.value)) {
        if (s.writer.get(op.value as Scalar) === from) {
          return `${b} read key ${show(op.key)} as ${show(op.value as Scalar)}, which ${a} wrote`;
        }
      }
      if ((kind === WW || kind === RW) && op.f === 'w') {
        if (s.cyclic) continue;
        for (const [v, list] of s.after) {
          const e = list.find((x) => x.to === op.value);
          if (e === undefined) continue;
          const why = versionReason(v, e);
          if (kind === WW && v !== INIT && s.writer.get(v) === from) {
            return `${a} wrote key ${show(op.key)} = ${show(v)} and ${b} wrote ${show(op.value)}, a later version (${why})`;
          }
          if (kind === RW && s.readers.get(v)?.includes(from)) {
            return `${a} read key ${show(op.key)} as ${showVersion(v)}, and ${b} wrote ${show(op.value)}, a later version (${why})`;
          }
        }
        if (kind === RW && s.readers.get(INIT)?.includes(from)) {
          return `${a} read key ${show(op.key)} as nil, the initial version, and ${b} wrote ${show(op.value)}, a later one`;
        }
      }
    }
    return `${a} precedes ${b}`;
  };

  return { edges, findings: findings.map, unknown, explain };
}
