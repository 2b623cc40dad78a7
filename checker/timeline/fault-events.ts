/**
 * What a nemesis event's `f` does to a fault, and which `f` closes an open fault: the one place
 * that knows the names. The timeline, the plots, the availability windows and the runner's heal
 * (which closes the faults still open) all go through here, so they agree on every pair.
 *
 * Names this knows:
 * - faultline's nemesis (nemesis/executor.ts): `partition-start`/`partition-stop`, `kill`/`start`,
 *   `pause`/`resume`, `link-start`/`link-stop`, `clock-offset`/`clock-reset`, and `heal` (after
 *   `healAllRecorded`); the runner's `heal-all-start`/`heal-all-stop` around its final heal.
 * - Jepsen: `start-partition`/`stop-partition`, `start-packet`/`stop-packet` (any `start-X`/
 *   `stop-X`), `kill`/`start`, `pause`/`resume`, and the old partitioner's bare `start`/`stop`.
 *   Clock bumps and strobes (`bump-clock`, `strobe-clock`, `reset-clock`, ...) are one-off marks.
 * - Also `X-begin`/`X-end`, `crash` (kill), `freeze`/`unfreeze` (pause), `partition`/`heal`.
 *
 * A nemesis may add its own kinds as data (`FaultStyle`, one per kind, from nemesis/kinds/):
 * their names are looked up before the rules above, so a kind may pick any pair of names. The
 * checker cannot import the nemesis (it is the bottom layer), hence a table passed in.
 */

export type FaultEdge = 'open' | 'close' | 'instant';

export interface FaultEvent {
  /** The fault's kind (`partition`, `kill`, `clock`, ...); for a one-off event, its `f`. */
  kind: string;
  edge: FaultEdge;
}

/**
 * One fault kind as a nemesis describes it to the checker and the drawings: the `f` that opens
 * it, the `f` that closes it, and how it is drawn (a legend label and a CSS colour).
 */
export interface FaultStyle {
  kind: string;
  open: string;
  close: string;
  label: string;
  colour: string;
}

/** The kind of the runner's `heal-all-start`/`heal-all-stop`: the final heal, not a fault. */
export const HEAL_ALL_KIND = 'heal-all';

/** Openers that are a word of their own: the kind they open and the `f` that closes it. */
const NAMED_OPENERS: Readonly<Record<string, { kind: string; closedBy: string }>> = {
  kill: { kind: 'kill', closedBy: 'start' },
  crash: { kind: 'kill', closedBy: 'start' },
  pause: { kind: 'pause', closedBy: 'resume' },
  freeze: { kind: 'pause', closedBy: 'unfreeze' },
  partition: { kind: 'partition', closedBy: 'heal' },
  'clock-offset': { kind: 'clock', closedBy: 'clock-reset' },
  // Jepsen's old partitioner (and others of its era): a bare start/stop pair.
  start: { kind: 'fault', closedBy: 'stop' },
};

/** Closers that are a word of their own, and the kind each closes: the openers' table turned round. */
const NAMED_CLOSERS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(NAMED_OPENERS).map((o) => [o.closedBy, o.kind]),
);

const SUFFIX = /^(.+)-(start|stop|begin|end)$/;
const PREFIX = /^(start|stop)-(.+)$/;

const own = <T>(table: Readonly<Record<string, T>>, f: string): T | undefined =>
  Object.hasOwn(table, f) ? table[f] : undefined;

/**
 * What the nemesis event `f` does. `isOpen(kind)` says which faults are in effect: only a closer
 * that is also an opener needs it (`start` after a kill restarts the node; otherwise it opens
 * Jepsen's generic fault). `styles`: the nemesis's own kinds, looked up first.
 */
export function classifyFaultEvent(
  f: string,
  isOpen: (kind: string) => boolean,
  styles: readonly FaultStyle[] = [],
): FaultEvent {
  const closer = styles.find((s) => s.close === f);
  if (closer !== undefined && isOpen(closer.kind)) return { kind: closer.kind, edge: 'close' };
  const opener = styles.find((s) => s.open === f);
  if (opener !== undefined) return { kind: opener.kind, edge: 'open' };
  const suffix = SUFFIX.exec(f);
  if (suffix) {
    const edge = suffix[2] === 'start' || suffix[2] === 'begin' ? 'open' : 'close';
    return { kind: suffix[1]!, edge };
  }
  const prefix = PREFIX.exec(f);
  if (prefix) return { kind: prefix[2]!, edge: prefix[1] === 'start' ? 'open' : 'close' };
  const closes = own(NAMED_CLOSERS, f);
  if (closes !== undefined && isOpen(closes)) return { kind: closes, edge: 'close' };
  const opens = own(NAMED_OPENERS, f);
  if (opens !== undefined) return { kind: opens.kind, edge: 'open' };
  if (closes !== undefined) return { kind: closes, edge: 'close' };
  // A closer of a fault not in effect: after the rules, as for the named closers above.
  if (closer !== undefined) return { kind: closer.kind, edge: 'close' };
  return { kind: f, edge: 'instant' };
}

/**
 * The `f` that closes the fault `openingF` opened: `classifyFaultEvent` of the answer closes the
 * same kind. Throws for an `f` that opens nothing (a caller's mistake: only opening events start
 * intervals).
 */
export function closingEventFor(openingF: string, styles: readonly FaultStyle[] = []): string {
  const listed = styles.find((s) => s.open === openingF);
  if (listed !== undefined) return listed.close;
  const suffix = SUFFIX.exec(openingF);
  if (suffix) {
    if (suffix[2] === 'start') return `${suffix[1]}-stop`;
    if (suffix[2] === 'begin') return `${suffix[1]}-end`;
  } else {
    const prefix = PREFIX.exec(openingF);
    if (prefix?.[1] === 'start') return `stop-${prefix[2]}`;
    const named = prefix ? undefined : own(NAMED_OPENERS, openingF);
    if (named !== undefined) return named.closedBy;
  }
  throw new RangeError(`closingEventFor: nemesis event "${openingF}" opens no fault`);
}
