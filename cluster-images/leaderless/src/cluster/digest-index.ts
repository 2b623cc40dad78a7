/**
 * What anti-entropy compares: for every record this node stores, its preference list and a
 * 64-bit hash of (type, key, digest). The records two nodes both replicate fall into AE_BUCKETS
 * buckets by key hash; a bucket's digest is the XOR of its records' hashes, so it is updated in
 * O(1) per change and two replicas agree on a bucket exactly when (barring collisions) they hold
 * the same versions of its records. Two levels (buckets, then records) make this a flat
 * Merkle tree: a round costs one summary exchange plus the records of differing buckets.
 */
import { createHash } from 'node:crypto';
import type { RecordType, ReplicaApi } from '../replica/types.js';
import { AE_BUCKETS } from './messages.js';
import type { Ring } from './ring.js';

interface Rec {
  type: RecordType;
  key: string;
  bucket: number;
  pref: string[];
  digest: string;
  h1: number;
  h2: number;
}

export const recordId = (type: RecordType, key: string) => `${type}\u0000${key}`;

export class DigestIndex {
  private readonly recs = new Map<string, Rec>();
  /** Records changed since the last comparison; hashed lazily, once per round at most. */
  private readonly dirty = new Map<string, [RecordType, string]>();

  constructor(
    private readonly self: string,
    private readonly ring: Ring,
    private readonly n: number,
    private readonly replica: ReplicaApi,
  ) {}

  rebuild(): void {
    this.recs.clear();
    for (const { type, key } of this.replica.entries()) this.update(type, key);
  }

  get size(): number {
    this.refresh();
    return this.recs.size;
  }

  /** Call after the stored record changed (cheap: the hashing waits for the next comparison). */
  update(type: RecordType, key: string): void {
    this.dirty.set(recordId(type, key), [type, key]);
  }

  private refresh(): void {
    for (const [id, [type, key]] of this.dirty) this.rehash(id, type, key);
    this.dirty.clear();
  }

  private rehash(id: string, type: RecordType, key: string): void {
    const digest = this.replica.digest(type, key);
    if (digest === '') {
      this.recs.delete(id);
      return;
    }
    const h = createHash('md5').update(id).update('\u0000').update(digest).digest();
    const prev = this.recs.get(id);
    if (prev) {
      prev.digest = digest;
      prev.h1 = h.readUInt32BE(0);
      prev.h2 = h.readUInt32BE(4);
      return;
    }
    this.recs.set(id, {
      type,
      key,
      bucket: this.bucketOfKey(key),
      pref: this.ring.preferenceList(key, this.n),
      digest,
      h1: h.readUInt32BE(0),
      h2: h.readUInt32BE(4),
    });
  }

  bucketOfKey(key: string): number {
    return createHash('md5').update(key).digest().readUInt16BE(0) % AE_BUCKETS;
  }

  private shared(rec: Rec, peer: string): boolean {
    return rec.pref.includes(peer) && rec.pref.includes(this.self);
  }

  /** Bucket digests over the records this node shares with `peer`. */
  summary(peer: string): string[] {
    this.refresh();
    const h1 = new Uint32Array(AE_BUCKETS);
    const h2 = new Uint32Array(AE_BUCKETS);
    for (const rec of this.recs.values()) {
      if (!this.shared(rec, peer)) continue;
      h1[rec.bucket]! ^= rec.h1;
      h2[rec.bucket]! ^= rec.h2;
    }
    return Array.from(h1, (a, i) =>
      a === 0 && h2[i] === 0
        ? ''
        : a.toString(16).padStart(8, '0') + h2[i]!.toString(16).padStart(8, '0'),
    );
  }

  /** The records shared with `peer` in the given buckets. */
  records(peer: string, buckets: ReadonlySet<number>): Array<Readonly<Rec>> {
    this.refresh();
    const out: Rec[] = [];
    for (const rec of this.recs.values()) {
      if (buckets.has(rec.bucket) && this.shared(rec, peer)) out.push(rec);
    }
    return out;
  }
}
