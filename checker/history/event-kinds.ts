/**
 * What kinds of events a history holds, without the event schema (./event.ts re-exports all of
 * this): the readers and the checker's hot paths import it without loading zod.
 */
export const OP_TYPES = ['invoke', 'ok', 'fail', 'info'] as const;
export type OpType = (typeof OP_TYPES)[number];

export const NEMESIS = 'nemesis';
/** The process of the harness's observations of the cluster (leader changes). */
export const OBSERVER = 'observer';
/** Processes that are not clients: their events are not operations. */
export const NON_CLIENT_PROCESSES: ReadonlySet<string> = new Set([NEMESIS, OBSERVER]);

/** True for events recorded by the nemesis rather than a client. */
export function isNemesisEvent(e: { process: number | string }): boolean {
  return e.process === NEMESIS;
}

/** True for events the harness recorded of what it observed of the cluster (leader changes). */
export function isObserverEvent(e: { process: number | string }): boolean {
  return e.process === OBSERVER;
}

/** True for events of a client process (not the nemesis, not an observer). */
export function isClientEvent(e: { process: number | string }): boolean {
  return typeof e.process === 'number' || !NON_CLIENT_PROCESSES.has(e.process);
}
