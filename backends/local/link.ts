import type { LinkFault } from '../../core/cluster.js';
import type { Rng } from '../../core/random.js';

/**
 * How the local backend's proxies turn a link fault into timing.
 *
 * Peer traffic is TCP, and TCP never shows loss to the application: a lost segment is
 * retransmitted after a retransmission timeout (RTO) and everything behind it waits (head-of-line
 * blocking). So `loss` is carried out as delay: each chunk is "lost" with probability `loss`, each
 * loss costs one RTO (200 ms, Linux's minimum, doubling for every further loss of the same chunk,
 * at most MAX_RETRANSMITS times). Chunks of one connection keep their order: a chunk is never
 * delivered before the one in front of it. `delayMs + jitterMs * U[0,1)` is added to every chunk.
 */
export const RETRANSMIT_TIMEOUT_MS = 200;
export const MAX_RETRANSMITS = 6;

export function validateLinkFault(node: string, fault: LinkFault): void {
  const bad = (field: string, value: unknown, want: string): never => {
    throw new Error(`link fault for ${node}: ${field} must be ${want}, got ${String(value)}`);
  };
  if (fault.delayMs !== undefined && !(Number.isFinite(fault.delayMs) && fault.delayMs >= 0)) {
    bad('delayMs', fault.delayMs, 'a finite number >= 0');
  }
  if (fault.jitterMs !== undefined && !(Number.isFinite(fault.jitterMs) && fault.jitterMs >= 0)) {
    bad('jitterMs', fault.jitterMs, 'a finite number >= 0');
  }
  if (fault.loss !== undefined && !(fault.loss >= 0 && fault.loss <= 1)) {
    bad('loss', fault.loss, 'a probability in [0, 1]');
  }
  // The proxies do not shape bandwidth: the backend lacks 'link-bandwidth', so the nemesis
  // refuses such a fault before the run; a direct call is refused here.
  if (fault.rateKbit !== undefined) {
    throw new Error(
      `link fault for ${node}: rateKbit (a bandwidth limit) is not supported by the local backend (no 'link-bandwidth' capability); use the docker backend`,
    );
  }
}

/** True when the fault changes nothing (an empty fault clears the link). */
export function isNoLinkFault(fault: LinkFault): boolean {
  return !(fault.delayMs ?? 0) && !(fault.jitterMs ?? 0) && !(fault.loss ?? 0);
}

/** Extra ms one chunk is held before delivery under `fault` (before the in-order constraint). */
export function chunkDelayMs(fault: LinkFault, rng: Rng): number {
  let ms = fault.delayMs ?? 0;
  if (fault.jitterMs) ms += fault.jitterMs * rng.float();
  const loss = fault.loss ?? 0;
  if (loss > 0) {
    let rto = RETRANSMIT_TIMEOUT_MS;
    for (let k = 0; k < MAX_RETRANSMITS && rng.chance(loss); k++) {
      ms += rto;
      rto *= 2;
    }
  }
  return ms;
}
