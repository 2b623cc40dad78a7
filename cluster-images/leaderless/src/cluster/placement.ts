/**
 * Where each key lives, given the membership table: the owners that hold it now (the read ring:
 * members and leaving nodes) and the owners once the pending moves complete (the target ring:
 * joining nodes and members). With no move pending the two are the same ring.
 *
 * While a range moves, writes go to both sets (old owners first) and need `extraAcks` more acks
 * than asked for, so a write counts W acks among the old owners and among the new ones whichever
 * way the move ends (Cassandra's pending-range rule); reads use the old owners until the move is
 * complete.
 */
import type { MemberStates } from './member-states.js';
import { Ring } from './ring.js';

export class Placement {
  private read!: Ring;
  private target!: Ring;

  constructor(
    private readonly states: MemberStates,
    private readonly vnodes: number,
    private readonly n: number,
    /** Used when no node is a member (a joining node that has not heard from the cluster). */
    private readonly fallback: string,
  ) {
    this.rebuild();
  }

  rebuild(): void {
    const readIds = this.states.readRingMembers();
    const targetIds = this.states.targetRingMembers();
    this.read = new Ring(readIds.length > 0 ? readIds : [this.fallback], this.vnodes);
    this.target = new Ring(
      targetIds.length > 0 ? targetIds : readIds.length > 0 ? readIds : [this.fallback],
      this.vnodes,
    );
  }

  /** The key's owners now: CASPaxos acceptors, read targets, who must converge. */
  readOwners(key: string): string[] {
    return this.read.preferenceList(key, this.n);
  }

  /** The key's owners once the pending moves are done. */
  targetOwners(key: string): string[] {
    return this.target.preferenceList(key, this.n);
  }

  /** Old owners, then new owners not among them: where a write goes. */
  writeOwners(key: string): string[] {
    const old = this.readOwners(key);
    const extra = this.targetOwners(key).filter((x) => !old.includes(x));
    return extra.length === 0 ? old : [...old, ...extra];
  }

  /** Nodes that become owners of the key with the pending moves. */
  gainers(key: string): string[] {
    const old = this.readOwners(key);
    return this.targetOwners(key).filter((x) => !old.includes(x));
  }

  /** How many acks above W a write of the key needs while its range moves. */
  extraAcks(key: string): number {
    return this.gainers(key).length;
  }

  /** Every node clockwise from the key on the target ring (stand-ins are chosen from it). */
  walk(key: string): string[] {
    return this.target.walk(key);
  }

  readRingMembers(): readonly string[] {
    return this.read.members;
  }

  targetRingMembers(): readonly string[] {
    return this.target.members;
  }

  /** What anti-entropy compares: every node a write goes to. */
  preferenceList(key: string, _n: number): string[] {
    return this.writeOwners(key);
  }
}
