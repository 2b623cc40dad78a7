/**
 * What anti-entropy compares: for every record this node stores, its preference list and a
 * 64-bit hash of (type, key, digest) (hash64: cheap, and only ever compared between nodes running the same code). The records two nodes both replicate fall into AE_BUCKETS
 * buckets by key hash; a bucket's digest is the XOR of its records' hashes, so it is updated in
 * O(1) per change and two replicas agree on a bucket exactly when (barring collisions) they hold
 * the same versions of its records. Two levels (buckets, then records) make this a flat
 * Merkle tree: a round costs one summary exchange plus the records of differing buckets.
 */
import { hash64 } from '../data/canonical.js';
import type { RecordType, ReplicaApi } from '../replica/types.js';
import { AE_BUCKETS } from './messages.js';
import type { Ring } from './ring.js';

interface PeerDigests {
  h1: Uint32Array;
  h2: Uint32Array;
  /** The summary as last formatted, and which of its buckets changed since. */
  text: string[];
  stale: Uint8Array;
}

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
  /**
   * Per peer, the XOR of the hashes of the records shared with it, per bucket: kept up to date
   * as records are rehashed, so a summary costs O(AE_BUCKETS), not O(records).
   */
  private readonly xor = new Map<string, PeerDigests>();
  /** The ids of the records in each bucket (so a round visits only the differing buckets). */
  private readonly byBucket = new Map<number, Set<string>>();

  constructor(
    private readonly self: string,
    /** Whom each record is shared with (the ring, or the placement while ranges move). */
    private readonly ring: Pick<Ring, 'preferenceList'>,
    private readonly n: number,
    private readonly replica: ReplicaApi,
  ) {}

  rebuild(): void {
    this.recs.clear();
    this.xor.clear();
    this.byBucket.clear();
    this.dirty.clear();
    for (const { type, key } of this.replica.entries()) this.update(type, key);
  }

  get size(): number {
    this.refresh();
    return this.recs.size;
  }

  /** Records hashed so far, and changes waiting for the next comparison (no hashing done). */
  counts(): { indexed: number; pending: number } {
    return { indexed: this.recs.size, pending: this.dirty.size };
  }

  /** Call after the stored record changed (cheap: the hashing waits for the next comparison). */
  update(type: RecordType, key: string): void {
    this.dirty.set(recordId(type, key), [type, key]);
  }

  private refresh(): void {
    for (const [id, [type, key]] of this.dirty) this.rehash(id, type, key);
    this.dirty.clear();
  }

  /** XORs a record's hash into (or, applied twice, out of) the buckets of the peers it shares. */
  private toggle(rec: Rec): void {
    if (!rec.pref.includes(this.self)) return;
    for (const peer of rec.pref) {
      if (peer === this.self) continue;
      let x = this.xor.get(peer);
      if (!x) {
        x = {
          h1: new Uint32Array(AE_BUCKETS),
          h2: new Uint32Array(AE_BUCKETS),
          text: new Array<string>(AE_BUCKETS).fill(''),
          stale: new Uint8Array(AE_BUCKETS),
        };
        this.xor.set(peer, x);
      }
      x.h1[rec.bucket]! ^= rec.h1;
      x.h2[rec.bucket]! ^= rec.h2;
      x.stale[rec.bucket] = 1;
    }
  }

  private rehash(id: string, type: RecordType, key: string): void {
    const digest = this.replica.digest(type, key);
    const prev = this.recs.get(id);
    if (digest === '') {
      if (prev) {
        this.toggle(prev);
        this.recs.delete(id);
        this.byBucket.get(prev.bucket)?.delete(id);
      }
      return;
    }
    if (prev?.digest === digest) return;
    const [h1, h2] = hash64(`${id}\u0000${digest}`);
    if (prev) {
      this.toggle(prev);
      prev.digest = digest;
      prev.h1 = h1;
      prev.h2 = h2;
      this.toggle(prev);
      return;
    }
    const rec: Rec = {
      type,
      key,
      bucket: this.bucketOfKey(key),
      pref: this.ring.preferenceList(key, this.n),
      digest,
      h1,
      h2,
    };
    this.recs.set(id, rec);
    let ids = this.byBucket.get(rec.bucket);
    if (!ids) {
      ids = new Set();
      this.byBucket.set(rec.bucket, ids);
    }
    ids.add(id);
    this.toggle(rec);
  }

  bucketOfKey(key: string): number {
    return hash64(key)[0] % AE_BUCKETS;
  }

  private shared(rec: Rec, peer: string): boolean {
    return rec.pref.includes(peer) && rec.pref.includes(this.self);
  }

  /** Bucket digests over the records this node shares with `peer`. */
  summary(peer: string): string[] {
    this.refresh();
    const x = this.xor.get(peer);
    if (!x) return new Array<string>(AE_BUCKETS).fill('');
    const { h1, h2, text, stale } = x;
    for (let i = 0; i < AE_BUCKETS; i++) {
      if (stale[i] === 0) continue;
      stale[i] = 0;
      const a = h1[i]!;
      const b = h2[i]!;
      text[i] =
        a === 0 && b === 0 ? '' : a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
    }
    return text.slice();
  }

  /** The records shared with `peer` in the given buckets. */
  records(peer: string, buckets: ReadonlySet<number>): Array<Readonly<Rec>> {
    this.refresh();
    const out: Rec[] = [];
    for (const b of buckets) {
      for (const id of this.byBucket.get(b) ?? []) {
        const rec = this.recs.get(id);
        if (rec && this.shared(rec, peer)) out.push(rec);
      }
    }
    return out;
  }
}
