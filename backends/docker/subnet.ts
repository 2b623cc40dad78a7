/**
 * Static addressing for a run's network: a /24 out of 10.213.0.0/16 that no other network
 * uses, node i at .(10 + i), the bridge (the host side, where clients connect from) at .1.
 */
export const SUBNET_PREFIX = '10.213';
export const MAX_NODES = 200;

export interface Subnet {
  cidr: string;
  gateway: string;
  address(index: number): string;
}

export function subnetOf(third: number): Subnet {
  if (!Number.isInteger(third) || third < 0 || third > 255) {
    throw new Error(`subnet index must be 0..255, got ${third}`);
  }
  const base = `${SUBNET_PREFIX}.${third}`;
  return {
    cidr: `${base}.0/24`,
    gateway: `${base}.1`,
    address(index) {
      if (!Number.isInteger(index) || index < 0 || index >= MAX_NODES) {
        throw new Error(`node index must be 0..${MAX_NODES - 1}, got ${index}`);
      }
      return `${base}.${10 + index}`;
    },
  };
}

/**
 * Candidate third octets for a run, starting from a hash of its id and skipping those whose
 * /24 is in `used` (CIDRs of existing networks), so concurrent runs rarely collide; the caller
 * still retries on the engine's "pool overlaps" answer.
 */
export function subnetCandidates(runId: string, used: ReadonlySet<string>): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) h = Math.imul(h ^ runId.charCodeAt(i), 0x01000193);
  const start = (h >>> 0) % 256;
  const out: number[] = [];
  for (let k = 0; k < 256; k++) {
    const third = (start + k) % 256;
    if (!used.has(subnetOf(third).cidr)) out.push(third);
  }
  return out;
}
