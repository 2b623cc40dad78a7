import { leaderless } from './leaderless.js';
import type { SystemDefinition } from './types.js';

export type { SystemDefinition } from './types.js';

/** Systems under test by name. */
export const SYSTEMS: ReadonlyMap<string, SystemDefinition> = new Map([
  [leaderless.name, leaderless],
]);
