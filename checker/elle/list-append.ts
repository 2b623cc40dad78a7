/**
 * List-append inference. Appended values are unique per key and lists only grow, so every
 * read of a key is a prefix of the key's one version order: sorting a key's reads by length,
 * each must extend the previous (else incompatible-order), and the longest is the order of
 * every append seen. From that order: ww (an append → the next append), wr (the append a read
 * ends on → the reader) and rw (a reader → the append that comes right after what it read).
 */
import type { Key } from '../history/index.js';
import { EdgeCollector } from './graph.js';
import { Findings, type Inference, possible, show, txnName } from './inference.js';
import { RW, type Scalar, type Txn, WR, WW } from './types.js';

/** A read by an ok txn: the list as read (repeats dropped), and the part others wrote. */
interface Read {
  txn: number;
  key: Key;
  list: Scalar[];
  /** The list without the trailing elements the reader appended itself. */
  seen: Scalar[];
  /** The read came before any append of the key by the same txn, which then appended it. */
  thenAppends: boolean;
}

interface KeyState {
  /** Value → the txn that appended it. */
  writer: Map<Scalar, number>;
  /** Appended values that are not their txn's last append of the key. */
  intermediate: Set<Scalar>;
  reads: Read[];
  /** The version order used for edges: what all reads agree on. */
  order: Scalar[];
  /** Value → its position in `order`. */
  position: Map<Scalar, number>;
  /** How many appends of the key failed (reads are searched for them only if some did). */
  failedAppends: number;
  /** Values appended by ok txns that no read shows: they follow all of `order`. */
  unseen: Set<Scalar>;
}

/** Most edges added per key for appends that no read shows. */
const UNSEEN_EDGE_LIMIT = 100_000;

const EMPTY: unique symbol = Symbol('empty list');

function keyState(keys: Map<Key, KeyState>, k: Key): KeyState {
  let s = keys.get(k);
  if (s === undefined) {
    s = {
      writer: new Map(),
      intermediate: new Set(),
      reads: [],
      order: [],
      position: new Map(),
      unseen: new Set(),
      failedAppends: 0,
    };
    keys.set(k, s);
  }
  return s;
}

function isPrefix(a: readonly Scalar[], b: readonly Scalar[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `list` itself when no element repeats, else a copy keeping each element's first place. */
function withoutRepeats(list: Scalar[]): Scalar[] {
  const seen = new Set<Scalar>();
  for (let i = 0; i < list.length; i++) {
    if (!seen.has(list[i]!)) {
      seen.add(list[i]!);
      continue;
    }
    const out = list.slice(0, i);
    for (let j = i + 1; j < list.length; j++) {
      if (!seen.has(list[j]!)) {
        seen.add(list[j]!);
        out.push(list[j]!);
      }
    }
    return out;
  }
  return list;
}

/** A read without the trailing elements the reader appended itself. */
function seenPart(list: Scalar[], reader: number, s: KeyState): Scalar[] {
  let cut = list.length;
  while (cut > 0 && s.writer.get(list[cut - 1]!) === reader) cut -= 1;
  return cut === list.length ? list : list.slice(0, cut);
}

export function inferListAppend(txns: readonly Txn[]): Inference {
  const keys = new Map<Key, KeyState>();
  const findings = new Findings();
  const unknown: string[] = [];
  let duplicateAppends = 0;

  // Who appended what (every txn, failed ones too: their values must not be read).
  for (const t of txns) {
    const ops = t.ops;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.f !== 'append') continue;
      const s = keyState(keys, op.key);
      // A txn has a handful of micro-ops: scanning them costs less than a map per txn.
      for (let j = i + 1; j < ops.length; j++) {
        if (ops[j]!.f === 'append' && ops[j]!.key === op.key) {
          s.intermediate.add(op.value);
          break;
        }
      }
      if (s.writer.has(op.value)) {
        duplicateAppends += 1;
        if (duplicateAppends === 1) {
          unknown.push(
            `duplicate-appends: ${show(op.value)} is appended to key ${show(op.key)} by both ${txnName(s.writer.get(op.value)!)} and ${txnName(t)}; values must be unique per key`,
          );
        }
        continue;
      }
      s.writer.set(op.value, t.id);
      if (t.status === 'fail') s.failedAppends += 1;
    }
  }

  // Reads of ok txns, each checked against the txn's own other ops on the key.
  for (const t of txns) {
    if (t.status !== 'ok') continue;
    const ops = t.ops;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.f !== 'r' || !Array.isArray(op.value)) continue;
      const k = op.key;
      // Repeated elements are looked for per key, below: only reads that are not a prefix of
      // the longest need it.
      const list = op.value as Scalar[];
      let previous: Scalar[] | undefined;
      let from = 0;
      for (let j = i - 1; j >= 0; j--) {
        const o = ops[j]!;
        if (o.f === 'r' && o.key === k && Array.isArray(o.value)) {
          previous = o.value as Scalar[];
          from = j + 1;
          break;
        }
      }
      // The txn's own appends of the key since its previous read of it (or since it began).
      let own: Scalar[] | undefined;
      for (let j = from; j < i; j++) {
        const o = ops[j]!;
        if (o.f !== 'append' || o.key !== k) continue;
        if (own === undefined) own = [o.value];
        else own.push(o.value);
      }
      let appendsLater = false;
      let future: Scalar[] | undefined;
      for (let j = i + 1; j < ops.length; j++) {
        const o = ops[j]!;
        if (o.f !== 'append' || o.key !== k) continue;
        appendsLater = true;
        if (!list.includes(o.value)) continue;
        if (future === undefined) future = [o.value];
        else future.push(o.value);
      }
      if (future !== undefined) {
        findings.add('future-read', {
          txns: [t.id],
          key: k,
          text: `${txnName(t)} read key ${show(k)} as ${show(list)}, including ${show(future)}, which it appends only later`,
        });
      }
      const tail = own ?? [];
      if (previous !== undefined) {
        const expected = previous.length + tail.length;
        if (
          list.length !== expected ||
          !isPrefix(previous, list) ||
          !isPrefix(tail, list.slice(previous.length))
        ) {
          findings.add('internal', {
            txns: [t.id],
            key: k,
            text: `${txnName(t)} read key ${show(k)} as ${show(list)}, but its own earlier ops imply ${show([...previous, ...tail])}`,
          });
        }
      } else if (
        own !== undefined &&
        !isPrefix(own, list.slice(Math.max(0, list.length - own.length)))
      ) {
        findings.add('internal', {
          txns: [t.id],
          key: k,
          text: `${txnName(t)} read key ${show(k)} as ${show(list)}, which does not end with its own appends ${show(own)}`,
        });
      }
      const s = keyState(keys, k);
      s.reads.push({
        txn: t.id,
        key: k,
        list,
        seen: seenPart(list, t.id, s),
        thenAppends: previous === undefined && own === undefined && appendsLater,
      });
    }
  }

  const edges = new EdgeCollector();
  const ok = (id: number | undefined): id is number => id !== undefined && possible(txns[id]!);

  for (const [k, s] of keys) {
    // The version order: the longest read, unless reads disagree.
    let longest: Scalar[] = [];
    for (const r of s.reads) if (r.list.length > longest.length) longest = r.list;
    // A prefix of a list without repeats has none: only the others are looked at.
    const longestClean = withoutRepeats(longest);
    const prefixes = new Set<Read>();
    for (const r of s.reads) {
      if (longestClean === longest && isPrefix(r.list, longest)) {
        prefixes.add(r);
        continue;
      }
      const clean = withoutRepeats(r.list);
      if (clean === r.list) continue;
      findings.add('duplicate-elements', {
        txns: [r.txn],
        key: k,
        text: `${txnName(r.txn)} read key ${show(k)} as ${show(r.list)}, which holds an element more than once`,
      });
      r.list = clean;
      r.seen = seenPart(clean, r.txn, s);
    }
    longest = longestClean;
    let order = longest;
    const clash = s.reads.find((r) => !prefixes.has(r) && !isPrefix(r.list, longest));
    if (clash !== undefined) {
      findings.add('incompatible-order', {
        txns: [clash.txn, s.reads.find((r) => r.list === longest)!.txn],
        key: k,
        text: `key ${show(k)} was read as ${show(clash.list)} by ${txnName(clash.txn)} and as ${show(longest)} by ${txnName(s.reads.find((r) => r.list === longest)!.txn)}: neither is a prefix of the other`,
      });
      // Only what every read agrees on stays ordered.
      let common = longest.length;
      for (const r of s.reads) {
        let i = 0;
        while (i < r.list.length && r.list[i] === longest[i]) i++;
        if (i < r.list.length) common = Math.min(common, i);
      }
      order = longest.slice(0, common);
    }
    s.order = order;
    order.forEach((v, i) => {
      s.position.set(v, i);
    });
    if (clash === undefined) addUnseen(s);

    for (let i = 0; i + 1 < order.length; i++) {
      const a = s.writer.get(order[i]!);
      const b = s.writer.get(order[i + 1]!);
      if (ok(a) && ok(b)) edges.add(a, b, WW);
      if (a !== undefined && txns[a]!.status === 'fail' && ok(b)) {
        findings.add('dirty-update', {
          txns: [a, b],
          key: k,
          text: `in key ${show(k)}, ${txnName(b)}'s append of ${show(order[i + 1])} comes right after ${show(order[i])}, appended by ${txnName(a)}, which failed`,
        });
      }
    }

    const rmw = new Map<Scalar | typeof EMPTY, number[]>();
    for (const r of s.reads) {
      for (const v of s.failedAppends > 0 ? r.list : []) {
        const w = s.writer.get(v);
        if (w !== undefined && txns[w]!.status === 'fail') {
          findings.add('G1a', {
            txns: [r.txn, w],
            key: k,
            text: `${txnName(r.txn)} read key ${show(k)} as ${show(r.list)}, including ${show(v)}, appended by ${txnName(w)}, which failed`,
          });
        }
      }
      const last = r.seen[r.seen.length - 1];
      if (last !== undefined) {
        const w = s.writer.get(last);
        if (ok(w)) edges.add(w, r.txn, WR);
        if (ok(w) && w !== r.txn && s.intermediate.has(last)) {
          findings.add('G1b', {
            txns: [r.txn, w],
            key: k,
            text: `${txnName(r.txn)} read key ${show(k)} as ${show(r.list)}, ending in ${show(last)}, which ${txnName(w)} appended but then appended to again`,
          });
        }
      }
      // Every read is a prefix of the order here, or longer than it (when reads clash).
      const next = order[r.seen.length];
      if (next !== undefined) {
        const w = s.writer.get(next);
        if (ok(w)) edges.add(r.txn, w, RW);
      }
      if (r.thenAppends) {
        const v = last ?? EMPTY;
        const group = rmw.get(v);
        if (group === undefined) rmw.set(v, [r.txn]);
        else if (!group.includes(r.txn)) group.push(r.txn);
      }
    }
    for (const [v, group] of rmw) {
      if (group.length < 2) continue;
      findings.add('lost-update', {
        txns: group,
        key: k,
        text: `${group.map((id) => txnName(id)).join(', ')} all read key ${show(k)} ${v === EMPTY ? 'as empty' : `up to ${show(v)}`} and then appended to it: all but one update is lost`,
      });
    }
  }

  /**
   * Appends by ok txns that no read shows. Lists only grow, so each was installed after the
   * longest read's version: its readers precede (rw) and its last writer comes before (ww) each
   * of them. These stand for chains of rw then ww edges through versions nobody saw, which
   * keeps the count of rw edges on any cycle; too many pairs are skipped (fewer edges, still
   * sound).
   */
  function addUnseen(s: KeyState): void {
    const unseen: number[] = [];
    for (const [v, id] of s.writer) {
      if (!s.position.has(v) && txns[id]!.status === 'ok') {
        unseen.push(id);
        s.unseen.add(v);
      }
    }
    if (unseen.length === 0) return;
    const top = s.order[s.order.length - 1];
    const readers = s.reads.filter((r) => r.seen.length === s.order.length).map((r) => r.txn);
    if ((readers.length + 1) * unseen.length > UNSEEN_EDGE_LIMIT) {
      s.unseen.clear();
      return;
    }
    const last = top === undefined ? undefined : s.writer.get(top);
    for (const w of unseen) {
      if (ok(last)) edges.add(last, w, WW);
      for (const r of readers) edges.add(r, w, RW);
    }
  }

  const readsOf = (id: number, k: Key) => keys.get(k)?.reads.filter((r) => r.txn === id) ?? [];
  const explain = (from: number, to: number, kind: number): string => {
    const a = txnName(from);
    const b = txnName(to);
    for (const op of txns[to]!.ops) {
      const s = keys.get(op.key);
      if (s === undefined) continue;
      if (kind === WW && op.f === 'append') {
        const i = s.position.get(op.value);
        if (i !== undefined && i > 0 && s.writer.get(s.order[i - 1]!) === from) {
          return `${a} appended ${show(s.order[i - 1])} to key ${show(op.key)} and ${b} appended ${show(op.value)} right after it`;
        }
      }
      if (kind === WR && op.f === 'r') {
        for (const r of readsOf(to, op.key)) {
          const last = r.seen[r.seen.length - 1];
          if (last !== undefined && s.writer.get(last) === from) {
            return `${b} read key ${show(op.key)} as ${show(r.list)}, which ends with ${a}'s append of ${show(last)}`;
          }
        }
      }
      if (op.f === 'append' && s.unseen.has(op.value)) {
        const top = s.order[s.order.length - 1];
        if (kind === WW && top !== undefined && s.writer.get(top) === from) {
          return `${a} appended ${show(top)} to key ${show(op.key)}, the last element any read shows, and ${b}'s append of ${show(op.value)}, which no read shows, can only come later`;
        }
        if (kind === RW) {
          const r = readsOf(from, op.key).find((x) => x.seen.length === s.order.length);
          if (r !== undefined) {
            return `${a} read key ${show(op.key)} as ${show(r.list)}, the longest read, which misses ${b}'s append of ${show(op.value)} (no read shows it, so it came later)`;
          }
        }
      }
      if (kind === RW && op.f === 'append') {
        const i = s.position.get(op.value);
        if (i === undefined) continue;
        for (const r of readsOf(from, op.key)) {
          if (r.seen.length === i) {
            return `${a} read key ${show(op.key)} as ${show(r.list)}, which misses ${b}'s append of ${show(op.value)}, the next element`;
          }
        }
      }
    }
    return `${a} precedes ${b}`;
  };

  return { edges, findings: findings.map, unknown, explain };
}
