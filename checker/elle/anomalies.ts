/**
 * Anomaly names (spelled as Elle spells them), which anomalies imply which, and which
 * anomalies a given set of targets makes relevant.
 */

export const CYCLE_BASES = ['G0', 'G1c', 'G-single', 'G-nonadjacent', 'G2-item'] as const;
export type CycleBase = (typeof CYCLE_BASES)[number];
export const CYCLE_SUFFIXES = ['', '-process', '-realtime'] as const;
export type CycleSuffix = (typeof CYCLE_SUFFIXES)[number];

export const CYCLE_ANOMALIES: readonly string[] = CYCLE_SUFFIXES.flatMap((s) =>
  CYCLE_BASES.map((b) => `${b}${s}`),
);

export const NON_CYCLE_ANOMALIES = [
  'G1a',
  'G1b',
  'internal',
  'duplicate-elements',
  'incompatible-order',
  'lost-update',
  'dirty-update',
  'cyclic-versions',
  'future-read',
] as const;
export type NonCycleAnomaly = (typeof NON_CYCLE_ANOMALIES)[number];

/** What the checker can report. */
export const REPORTED_ANOMALIES: readonly string[] = [...CYCLE_ANOMALIES, ...NON_CYCLE_ANOMALIES];

/** Names that only group others (asking for G1 checks G1a, G1b and G1c). */
const GROUPS = ['G1', 'G2'] as const;

/** A → what finding A also shows (one step; closed under `impliedBy`). */
const IMPLIES = new Map<string, string[]>();
function implies(a: string, ...bs: string[]): void {
  IMPLIES.set(a, [...(IMPLIES.get(a) ?? []), ...bs]);
}
for (const s of CYCLE_SUFFIXES) {
  implies(`G0${s}`, `G1c${s}`);
  implies(`G1c${s}`, `G1${s}`);
  implies(`G-single${s}`, `G-nonadjacent${s}`);
  // Every cycle found here is of item dependencies: one with an rw edge is a G2-item (Adya).
  implies(`G-nonadjacent${s}`, `G2-item${s}`);
  implies(`G2-item${s}`, `G2${s}`);
}
// A pure data cycle is also a cycle once session or real-time order is added.
for (const b of [...CYCLE_BASES, ...GROUPS]) {
  if (b === 'G1') continue;
  implies(b, `${b}-process`);
  implies(`${b}-process`, `${b}-realtime`);
}
implies('G1', 'G1-process');
implies('G1-process', 'G1-realtime');
implies('G1a', 'G1');
implies('G1b', 'G1');
implies('dirty-update', 'G1a');
implies('incompatible-order', 'G1a');
implies('future-read', 'G1c');
implies('lost-update', 'G2-item');

/** Every name the options accept. */
export const KNOWN_ANOMALIES: readonly string[] = [
  ...new Set([...REPORTED_ANOMALIES, ...IMPLIES.keys(), ...[...IMPLIES.values()].flat()]),
].sort();

const closures = new Map<string, ReadonlySet<string>>();

/** `a` and everything finding it shows. */
export function closureOf(a: string): ReadonlySet<string> {
  const known = closures.get(a);
  if (known !== undefined) return known;
  const seen = new Set<string>([a]);
  const todo = [a];
  while (todo.length > 0) {
    for (const b of IMPLIES.get(todo.pop()!) ?? []) {
      if (!seen.has(b)) {
        seen.add(b);
        todo.push(b);
      }
    }
  }
  closures.set(a, seen);
  return seen;
}

/** The reportable anomalies that show at least one of `targets`. */
export function relevantAnomalies(targets: Iterable<string>): Set<string> {
  const wanted = new Set(targets);
  return new Set(REPORTED_ANOMALIES.filter((a) => [...closureOf(a)].some((b) => wanted.has(b))));
}
