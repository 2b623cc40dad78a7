/**
 * The leaderless store's node-local log: append throughput per fsync mode with group commit
 * (many appends in flight, as under a loaded node), the same with one append in flight (one
 * fsync per record), and replica-level merges and Paxos acceptor rounds with `fsync always`.
 * Targets this serves: a 3-node cluster doing ≥ 5,000 quorum ops/s (each a merge on 3
 * replicas) and ≥ 1,000 CAS ops/s (each 2 acceptor records on 2-3 replicas).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Replica } from '../cluster-images/leaderless/src/replica/replica.js';
import type { FsyncMode } from '../cluster-images/leaderless/src/replica/types.js';
import { DiskStorage } from '../cluster-images/leaderless/src/storage/disk-storage.js';

export const name = 'leaderless replica log';

const SECONDS = 1.5;
const payload = Buffer.from(
  JSON.stringify({
    r: 'm',
    ty: 'kv',
    k: 'key-000123',
    s: {
      t: 'lww',
      ts: 1_700_000_000_000,
      node: 'n1',
      seq: 7,
      deleted: false,
      value: 'v'.repeat(64),
    },
  }),
);

async function loop(inflight: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: inflight }, async (_, w) => {
      let i = w;
      while (performance.now() < end) {
        await op(i);
        i += inflight;
        done++;
      }
    }),
  );
  return done / SECONDS;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function run(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'leaderless-bench-'));
  try {
    process.stdout.write(
      `record ${payload.length} bytes; ${SECONDS}s per line; shared 2-core machine, numbers are noisy\n`,
    );
    {
      // warm-up: the first fsyncs on a fresh file system area are slower
      const { storage } = await DiskStorage.open(
        { dir: join(root, 'warm'), fsync: 'always' },
        () => {},
      );
      await loop(64, () => storage.append(payload));
      await storage.close();
    }
    for (const mode of ['always', 'interval', 'never'] as FsyncMode[]) {
      for (const inflight of [1, 64]) {
        const dir = join(root, `${mode}-${inflight}`);
        const { storage } = await DiskStorage.open({ dir, fsync: mode }, () => {});
        const rate = await loop(inflight, () => storage.append(payload));
        process.stdout.write(
          `log append  fsync=${mode.padEnd(8)} in-flight=${String(inflight).padStart(2)}: ${fmt(rate).padStart(9)} appends/s  (${fmt((rate / storage.batches) * SECONDS)} per batch)\n`,
        );
        await storage.close();
      }
    }
    const dir = join(root, 'replica');
    const r = await Replica.open({
      nodeId: 'n1',
      dataDir: dir,
      storage: 'disk',
      fsync: 'always',
      conflict: 'lww',
    });
    const merges = await loop(64, (i) =>
      r.merge('kv', `k${i % 1000}`, r.kvWrite(`k${i % 1000}`, i, undefined, Date.now())),
    );
    process.stdout.write(
      `replica merge (kv lww, fsync always, 64 in flight): ${fmt(merges)} merges/s; 5,000 quorum ops/s on 3 nodes with N=3 is 5,000 merges/s per node → ratio ${(merges / 5000).toFixed(2)}\n`,
    );
    let n = 0;
    const rounds = await loop(64, async (i) => {
      const ballot = { n: ++n, node: 'x' };
      await r.paxosPrepare(`p${i % 1000}`, ballot);
      await r.paxosAccept(`p${i % 1000}`, ballot, i);
    });
    process.stdout.write(
      `replica paxos prepare+accept (fsync always, 64 in flight): ${fmt(rounds)} rounds/s; 1,000 CAS/s is 1,000 rounds/s per acceptor → ratio ${(rounds / 1000).toFixed(2)}\n`,
    );
    {
      // one big OR-set (a set workload's single key): each add merged, then digested as
      // anti-entropy's index does; cost per add must not grow with the set
      const s = await Replica.open({
        nodeId: 'n1',
        dataDir: '',
        storage: 'memory',
        fsync: 'never',
        conflict: 'lww',
      });
      for (const size of [1_000, 20_000]) {
        const t = performance.now();
        for (let i = 0; i < size; i++) {
          await s.merge('set', `s${size}`, s.setAdd(`s${size}`, i));
          s.digest('set', `s${size}`);
        }
        const us = ((performance.now() - t) * 1000) / size;
        const tr = performance.now();
        const view = s.setView(s.get('set', `s${size}`));
        process.stdout.write(
          `OR-set add+merge+digest up to ${fmt(size)} elements: ${us.toFixed(1)} µs/add; full read of ${fmt(view.length)}: ${(performance.now() - tr).toFixed(1)} ms\n`,
        );
      }
    }
    const t0 = performance.now();
    await r.compact();
    process.stdout.write(
      `compaction of ${r.stats().keys} keys: ${(performance.now() - t0).toFixed(0)} ms\n`,
    );
    await r.close();
    const t1 = performance.now();
    const r2 = await Replica.open({
      nodeId: 'n1',
      dataDir: dir,
      storage: 'disk',
      fsync: 'always',
      conflict: 'lww',
    });
    process.stdout.write(
      `reopen (snapshot + log, ${r2.stats().recoveredRecords} records): ${(performance.now() - t1).toFixed(0)} ms\n`,
    );
    await r2.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
