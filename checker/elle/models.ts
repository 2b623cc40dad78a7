/**
 * Consistency models, weakest first: what each forbids directly and which weaker models it
 * includes. A model is ruled out when a found anomaly, or something it implies, is forbidden.
 */
import { closureOf } from './anomalies.js';

interface ModelSpec {
  /** Weaker models whose every prohibition this one keeps. */
  includes: string[];
  forbids: string[];
}

const MODELS: Record<string, ModelSpec> = {
  'read-uncommitted': { includes: [], forbids: ['G0', 'duplicate-elements', 'cyclic-versions'] },
  'read-committed': { includes: ['read-uncommitted'], forbids: ['G1'] },
  'cursor-stability': { includes: ['read-committed'], forbids: ['lost-update'] },
  'read-atomic': { includes: ['read-committed'], forbids: ['internal', 'future-read'] },
  'consistent-view': { includes: ['read-committed'], forbids: ['G-single'] },
  'snapshot-isolation': {
    includes: ['consistent-view', 'read-atomic'],
    // First committer wins: two txns that read one version cannot both write over it.
    forbids: ['G-nonadjacent', 'lost-update'],
  },
  'repeatable-read': { includes: ['cursor-stability'], forbids: ['G2-item'] },
  serializable: {
    includes: ['repeatable-read', 'read-atomic', 'consistent-view'],
    forbids: ['G2', 'internal'],
  },
  'strong-session-serializable': {
    includes: ['serializable'],
    forbids: ['G1-process', 'G2-process'],
  },
  'strict-serializable': {
    includes: ['strong-session-serializable'],
    forbids: ['G1-realtime', 'G2-realtime'],
  },
};

export const CONSISTENCY_MODELS: readonly string[] = Object.keys(MODELS);

const ALIASES: Record<string, string> = {
  'PL-1': 'read-uncommitted',
  'PL-2': 'read-committed',
  'PL-CS': 'cursor-stability',
  'PL-2+': 'consistent-view',
  'PL-SI': 'snapshot-isolation',
  'PL-2.99': 'repeatable-read',
  'PL-3': 'serializable',
  'PL-SS': 'strict-serializable',
};

/** The canonical name of a model, or undefined for one not known. */
export function modelName(name: string): string | undefined {
  const n = name.startsWith(':') ? name.slice(1) : name;
  if (n in MODELS) return n;
  return ALIASES[n] ?? ALIASES[n.toUpperCase()];
}

/** `model` and every weaker model it includes. */
function withWeaker(model: string): string[] {
  const out = new Set<string>();
  const todo = [model];
  while (todo.length > 0) {
    const m = todo.pop()!;
    if (out.has(m)) continue;
    out.add(m);
    todo.push(...MODELS[m]!.includes);
  }
  return [...out];
}

/** Everything `model` forbids, its weaker models' prohibitions included. */
export function forbiddenBy(model: string): Set<string> {
  return new Set(withWeaker(model).flatMap((m) => MODELS[m]!.forbids));
}

export interface RuledOut {
  /** The weakest models ruled out. */
  not: string[];
  /** The other models ruled out, all stronger than some in `not`. */
  alsoNot: string[];
}

export function modelsRuledOut(found: Iterable<string>): RuledOut {
  const shown = new Set<string>();
  for (const a of found) for (const b of closureOf(a)) shown.add(b);
  const direct = CONSISTENCY_MODELS.filter((m) => MODELS[m]!.forbids.some((a) => shown.has(a)));
  const out = new Set(
    CONSISTENCY_MODELS.filter((m) => withWeaker(m).some((w) => direct.includes(w))),
  );
  const not = [...out].filter((m) => !MODELS[m]!.includes.some((w) => out.has(w)));
  const alsoNot = [...out].filter((m) => !not.includes(m));
  return { not, alsoNot };
}
