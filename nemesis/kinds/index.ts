import { createFaultKinds } from '../registry.js';
import { clock } from './clock.js';
import { kill } from './kill.js';
import { link } from './link.js';
import { membership } from './membership.js';
import { partition } from './partition.js';
import { pause } from './pause.js';

/**
 * faultline's fault kinds. A new kind is a module of its own in this folder (one FaultKind
 * value, see core/nemesis.ts) and one entry here; everything else is derived from this list.
 * The order is the order of the spec's `faults` enum in messages.
 */
export const BUILTIN_KINDS = [partition, kill, pause, clock, link, membership] as const;

export const BUILTIN_FAULT_KINDS = createFaultKinds(BUILTIN_KINDS);

/** The builtin kinds as the checker's timeline and the plots draw them. */
export const BUILTIN_FAULT_STYLES = BUILTIN_FAULT_KINDS.styles;

export * from './shared.js';
export { clock, kill, link, membership, partition, pause };
