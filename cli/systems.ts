import { leaderless } from '../cluster-images/leaderless/system.js';
import type { SystemDefinition } from '../core/system.js';

export type { SystemDefinition } from '../core/system.js';

/** Systems under test by name. */
export const SYSTEMS: ReadonlyMap<string, SystemDefinition> = new Map([
  [leaderless.name, leaderless],
]);
