/**
 * The linearizability search of one partition: Wing & Gong's algorithm with Lowe's memoisation.
 *
 * Every operation contributes a call entry and a return entry, ordered by time; intervals are
 * closed, so at equal times calls come before returns (a call at the instant of another's
 * return is concurrent with it), except within one client: its operations keep their order
 * (see processPredecessors). The entries form a doubly-linked list. The search walks the
 * list from its head: at a call entry it tries to linearize that operation next (the model
 * accepts it, and the resulting (linearized set, state) was not explored before), lifting the
 * operation's two entries out of the list and starting again from the head; reaching a return
 * entry means that operation had to be linearized already, so it backtracks: the last
 * linearized operation goes back into the list and the walk resumes after its call entry.
 *
 * Indeterminate operations (return at +Infinity) have their return entries after every finite
 * one, so they may be linearized at any point after their call; they need not be linearized at
 * all: the search succeeds as soon as every operation with a finite return is linearized.
 */
import { StateCache } from './cache.js';
import type { CompleteModel } from './model.js';
import type { Operation, UnknownReason, Verdict } from './types.js';

export interface SearchParams<S, I, O> {
  model: CompleteModel<S, I, O>;
  /** The partition's operations (indeterminate read-only ones already dropped). */
  ops: readonly Operation<I, O>[];
  verbose: boolean;
  maxCacheEntries: number;
  /** Polled now and then; a reason stops the search with verdict "unknown". */
  poll: () => UnknownReason | undefined;
  /** How many longest prefixes to keep in verbose mode. */
  maxLongest?: number;
  /** Steps between polls, less one, a power of two less one (default 1023). */
  pollMask?: number;
}

export interface SearchOutcome {
  valid: Verdict;
  reason?: UnknownReason;
  /** Verbose only: linearizable prefixes of maximal length (indices into ops); the whole linearization when valid. */
  longest?: number[][];
  cacheEntries: number;
}

const POLL_EVERY = 1023;

/** A small deterministic PRNG (xorshift32) for the Zobrist keys of the linearized-set hash. */
function zobristKeys(n: number): Int32Array {
  const z = new Int32Array(n);
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    z[i] = x;
  }
  return z;
}

/**
 * Process order where the clock cannot show it: for each operation, the operation of the same
 * client that must be linearized before it although real time allows either order, or -1.
 * A client runs one operation at a time, so its next operation starts after the previous one
 * returned; when the clock gives both instants the same time, the entries alone would make
 * the two concurrent. A client's operations are taken in order of call (then return, then
 * position); the constraint is added only for a finite return equal to the next call (an
 * earlier return already orders them; a later one, overlapping, is not one client's order).
 */
export function processPredecessors(ops: readonly Operation<unknown, unknown>[]): Int32Array {
  const before = new Int32Array(ops.length).fill(-1);
  const byClient = new Map<number, number[]>();
  for (let i = 0; i < ops.length; i++) {
    const list = byClient.get(ops[i]!.clientId);
    if (list === undefined) byClient.set(ops[i]!.clientId, [i]);
    else list.push(i);
  }
  for (const list of byClient.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => ops[a]!.call - ops[b]!.call || ops[a]!.return - ops[b]!.return || a - b);
    for (let k = 1; k < list.length; k++) {
      const a = ops[list[k - 1]!]!;
      if (a.return !== Number.POSITIVE_INFINITY && a.return === ops[list[k]!]!.call) {
        before[list[k]!] = list[k - 1]!;
      }
    }
  }
  return before;
}

/** Entry ids: 2i is operation i's call, 2i+1 its return. */
function sortedEntries(ops: readonly Operation<unknown, unknown>[]): Int32Array {
  const n = ops.length;
  const entries = new Int32Array(2 * n);
  const time = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    entries[2 * i] = 2 * i;
    entries[2 * i + 1] = 2 * i + 1;
    time[2 * i] = ops[i]!.call;
    time[2 * i + 1] = ops[i]!.return;
  }
  // Time, then calls before returns (closed intervals), then operation order.
  entries.sort((a, b) => time[a]! - time[b]! || (a & 1) - (b & 1) || a - b);
  return entries;
}

export function searchPartition<S, I, O>(params: SearchParams<S, I, O>): SearchOutcome {
  const { model, ops, verbose, poll } = params;
  const maxLongest = params.maxLongest ?? 8;
  const pollMask = params.pollMask ?? POLL_EVERY;
  const n = ops.length;
  if (n === 0) return { valid: true, longest: verbose ? [[]] : [], cacheEntries: 0 };

  const finite = new Uint8Array(n);
  let remaining = 0;
  for (let i = 0; i < n; i++) {
    if (ops[i]!.return !== Number.POSITIVE_INFINITY) {
      finite[i] = 1;
      remaining++;
    }
  }
  if (remaining === 0) return { valid: true, longest: verbose ? [[]] : [], cacheEntries: 0 };

  // Bit positions: finite operations by call order first, then indeterminate ones, so that a
  // linearized set is a run of ones, a window, then zeros (see StateCache).
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => finite[b]! - finite[a]! || ops[a]!.call - ops[b]!.call || a - b,
  );
  // Finite operations take bits [0, remaining); indeterminate ones start at the next word.
  const split = (remaining + 31) >>> 5;
  const bitPos = new Int32Array(n);
  for (let r = 0; r < n; r++) bitPos[order[r]!] = r < remaining ? r : split * 32 + (r - remaining);

  const HEAD = 2 * n;
  const TAIL = 2 * n + 1;
  const next = new Int32Array(2 * n + 2);
  const prev = new Int32Array(2 * n + 2);
  const entries = sortedEntries(ops as readonly Operation<unknown, unknown>[]);
  let last = HEAD;
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = TAIL;
  prev[TAIL] = last;
  next[TAIL] = TAIL;

  const words = split + ((n - remaining + 31) >>> 5);
  const bits = new Int32Array(words);
  const zob = zobristKeys(n);
  const stackOp = new Int32Array(n);
  const stackState: (S | undefined)[] = new Array(n);
  const cache = new StateCache<S>(model.equal, params.maxCacheEntries);

  const before = processPredecessors(ops as readonly Operation<unknown, unknown>[]);
  const viable = model.viability?.(ops);
  const pending = viable ? new Int32Array(n) : new Int32Array(0);

  // The finite segment's first unset bit and last set bit, kept up to date as bits change.
  const finiteBits = remaining;
  let firstZero = 0;
  let lastOne = -1;
  const isSet = (p: number): boolean => (bits[p >> 5]! & (1 << (p & 31))) !== 0;
  const onSet = (p: number): void => {
    if (p >= finiteBits) return;
    if (p > lastOne) lastOne = p;
    if (p === firstZero) {
      let q = p + 1;
      while (q < finiteBits && isSet(q)) q++;
      firstZero = q;
    }
  };
  const onClear = (p: number): void => {
    if (p >= finiteBits) return;
    if (p < firstZero) firstZero = p;
    if (p === lastOne) {
      let q = p - 1;
      while (q >= 0 && !isSet(q)) q--;
      lastOne = q;
    }
  };

  let depth = 0;
  let state = model.init();
  let setHash = 0;
  let entry = next[HEAD]!;
  let iterations = 0;

  let bestDepth = -1;
  const longest: number[][] = [];
  const snapshot = (): void => {
    if (depth > bestDepth) {
      bestDepth = depth;
      longest.length = 0;
    }
    if (depth === bestDepth && longest.length < maxLongest) {
      longest.push(Array.from(stackOp.subarray(0, depth)));
    }
  };

  const linearized = (i: number): boolean => {
    const p = bitPos[i]!;
    return (bits[p >> 5]! & (1 << (p & 31))) !== 0;
  };
  // Whether the model's pruning hook lets the search go on from `state` (see Model.viability).
  const isViable = (): boolean => {
    let size = 0;
    let e = next[HEAD]!;
    while ((e & 1) === 0 && e < HEAD) {
      pending[size++] = e >> 1;
      e = next[e]!;
    }
    // With the front alone there is nothing to gain over stepping it.
    if (e >= HEAD || size < 2) return true;
    return viable!(state, pending, size, e >> 1, linearized);
  };

  for (;;) {
    if (remaining === 0) {
      // The evidence of a valid partition is its linearization.
      const found = verbose ? [Array.from(stackOp.subarray(0, depth))] : [];
      return { valid: true, longest: found, cacheEntries: cache.size };
    }
    if ((++iterations & pollMask) === 0) {
      const reason = poll();
      if (reason !== undefined) {
        if (verbose) snapshot();
        return { valid: 'unknown', reason, longest, cacheEntries: cache.size };
      }
    }
    if (entry < HEAD && (entry & 1) === 0) {
      const i = entry >> 1;
      const op = ops[i]!;
      // Not before its client's previous operation (see processPredecessors).
      const ns =
        before[i]! >= 0 && !linearized(before[i]!)
          ? undefined
          : model.step(state, op.input, op.output);
      if (ns !== undefined) {
        const p = bitPos[i]!;
        const bit = 1 << (p & 31);
        bits[p >> 5]! |= bit;
        onSet(p);
        const sh = setHash ^ zob[i]!;
        const h = (Math.imul(sh ^ model.hash(ns), 0x9e3779b1) ^ sh) | 0;
        const lo = firstZero >> 5;
        const hi = lastOne >> 5;
        const added = cache.add(h, bits, lo, hi >= lo ? hi : lo - 1, split, ns);
        if (added === -1) {
          if (verbose) snapshot();
          return { valid: 'unknown', reason: 'memory', longest, cacheEntries: cache.size };
        }
        if (added === 1) {
          // Lift the call and return entries out of the list.
          const r = entry + 1;
          next[prev[entry]!] = next[entry]!;
          prev[next[entry]!] = prev[entry]!;
          next[prev[r]!] = next[r]!;
          prev[next[r]!] = prev[r]!;
          const prevState = state;
          state = ns;
          remaining -= finite[i]!;
          if (viable === undefined || remaining === 0 || isViable()) {
            stackOp[depth] = i;
            stackState[depth] = prevState;
            depth++;
            setHash = sh;
            entry = next[HEAD]!;
            continue;
          }
          // A dead end the model can already see: put the operation back and go on.
          state = prevState;
          remaining += finite[i]!;
          next[prev[r]!] = r;
          prev[next[r]!] = r;
          next[prev[entry]!] = entry;
          prev[next[entry]!] = entry;
        }
        bits[p >> 5]! &= ~bit;
        onClear(p);
      }
      entry = next[entry]!;
    } else {
      // A return entry: its operation should have been linearized by now. Backtrack.
      if (depth === 0) {
        if (verbose) snapshot();
        return { valid: false, longest, cacheEntries: cache.size };
      }
      if (verbose) snapshot();
      depth--;
      const i = stackOp[depth]!;
      state = stackState[depth] as S;
      stackState[depth] = undefined;
      const p = bitPos[i]!;
      bits[p >> 5]! &= ~(1 << (p & 31));
      onClear(p);
      setHash ^= zob[i]!;
      remaining += finite[i]!;
      const c = 2 * i;
      const r = c + 1;
      next[prev[r]!] = r;
      prev[next[r]!] = r;
      next[prev[c]!] = c;
      prev[next[c]!] = c;
      entry = next[c]!;
    }
  }
}
