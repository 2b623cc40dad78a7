import { type FileHandle, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FsyncMode } from '../replica/types.js';
import { encodeFrame, HEADER_BYTES, scanFrames } from './frame.js';
import { FatalRecoveryError, type RecoveryStats, type Storage } from './storage.js';

/**
 * The on-disk log: files `snap-<gen>` (a complete snapshot, written to a temp file, fsynced,
 * renamed) and `log-<gen>` (appended records). Snapshot `g` holds everything in logs `< g`, so
 * recovery loads the newest snapshot `s` and replays logs `>= s` in order; older files are
 * deleted. Every file is a sequence of frames (see frame.ts).
 */
export interface DiskStorageOptions {
  dir: string;
  fsync: FsyncMode;
  fsyncIntervalMs?: number;
  log?: (line: string) => void;
}

type QueueItem =
  | { kind: 'frame'; frame: Buffer; resolve: () => void; reject: (e: Error) => void }
  | { kind: 'switch'; fh: FileHandle; gen: number; done: () => void };

const GEN_DIGITS = 12;
/** Snapshot write size between yields to the event loop. */
const SNAPSHOT_CHUNK_BYTES = 1 << 20;
const name = (prefix: 'snap' | 'log', gen: number): string =>
  `${prefix}-${String(gen).padStart(GEN_DIGITS, '0')}`;

function parseGen(file: string, prefix: 'snap' | 'log'): number | undefined {
  const m = new RegExp(`^${prefix}-(\\d{${GEN_DIGITS}})$`).exec(file);
  return m ? Number(m[1]) : undefined;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class DiskStorage implements Storage {
  private queue: QueueItem[] = [];
  private flushing = false;
  private scheduled = false;
  private failed: Error | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private compacting: Promise<void> | undefined;
  private snapBytes = 0;
  private closed = false;
  /** Write batches so far (each one write, plus one fsync with `always`). */
  batches = 0;

  private constructor(
    private readonly opts: DiskStorageOptions,
    private fh: FileHandle,
    private gen: number,
    private pos: number,
  ) {
    if (opts.fsync === 'interval') {
      this.timer = setInterval(() => this.intervalSync(), opts.fsyncIntervalMs ?? 100);
      this.timer.unref();
    }
  }

  /**
   * Open (creating if needed) the storage in `opts.dir`, replaying every complete record
   * through `apply` in order. A torn or corrupt tail of the live log is truncated; a record
   * whose `apply` throws counts as corrupt too.
   */
  static async open(
    opts: DiskStorageOptions,
    apply: (payload: Buffer) => void,
  ): Promise<{ storage: DiskStorage; stats: RecoveryStats }> {
    const say = opts.log ?? (() => {});
    await mkdir(opts.dir, { recursive: true });
    const files = await readdir(opts.dir);
    for (const f of files) if (f.endsWith('.tmp')) await rm(join(opts.dir, f), { force: true });
    const snaps = files.map((f) => parseGen(f, 'snap')).filter((g) => g !== undefined);
    const logs = files.map((f) => parseGen(f, 'log')).filter((g) => g !== undefined);
    const snapGen = snaps.length ? Math.max(...snaps) : 0;
    const stats: RecoveryStats = { recoveredRecords: 0, truncatedBytes: 0 };

    const replay = (buf: Buffer, what: string): { validBytes: number; problem?: string } => {
      const scan = scanFrames(buf);
      let off = 0;
      for (const rec of scan.records) {
        try {
          apply(rec);
        } catch (e) {
          if (e instanceof FatalRecoveryError) throw e;
          return {
            validBytes: off,
            problem: `unreadable record at byte ${off} of ${what}: ${String(e)}`,
          };
        }
        stats.recoveredRecords++;
        off += HEADER_BYTES + rec.length;
      }
      return scan.problem === undefined
        ? { validBytes: off }
        : { validBytes: off, problem: scan.problem };
    };

    let snapBytes = 0;
    if (snapGen > 0) {
      const buf = await readFile(join(opts.dir, name('snap', snapGen)));
      snapBytes = buf.length;
      const r = replay(buf, name('snap', snapGen));
      if (r.problem)
        say(
          `storage: snapshot ${name('snap', snapGen)} is damaged (${r.problem}); kept what precedes it`,
        );
    }
    const live = logs.filter((g) => g >= snapGen).sort((a, b) => a - b);
    let activeGen = live.length ? live[live.length - 1]! : Math.max(snapGen, 1);
    let pos = 0;
    for (const g of live) {
      const path = join(opts.dir, name('log', g));
      const buf = await readFile(path);
      const r = replay(buf, name('log', g));
      if (r.problem === undefined) {
        if (g === activeGen) pos = buf.length;
        continue;
      }
      const cut = buf.length - r.validBytes;
      stats.truncatedBytes += cut;
      say(`storage: ${name('log', g)}: ${r.problem}; truncated ${cut} bytes, kept ${r.validBytes}`);
      const t = await open(path, 'r+');
      await t.truncate(r.validBytes);
      await t.sync();
      await t.close();
      if (g === activeGen) pos = r.validBytes;
      else {
        // Damage before the live log's end: later logs may depend on what was lost; keep them
        // (joins tolerate gaps) but say so loudly.
        say(`storage: WARNING: damage inside a non-final log ${name('log', g)}`);
      }
    }
    for (const g of snaps)
      if (g < snapGen) await rm(join(opts.dir, name('snap', g)), { force: true });
    for (const g of logs)
      if (g < snapGen) await rm(join(opts.dir, name('log', g)), { force: true });

    const activePath = join(opts.dir, name('log', activeGen));
    let fh: FileHandle;
    if (live.length) fh = await open(activePath, 'r+');
    else {
      activeGen = Math.max(snapGen, 1);
      fh = await open(activePath, 'w');
      await fh.sync();
      await fsyncDir(opts.dir);
    }
    if (stats.recoveredRecords > 0 || stats.truncatedBytes > 0) {
      say(`storage: recovered ${stats.recoveredRecords} records from ${opts.dir}`);
    }
    const storage = new DiskStorage(opts, fh, activeGen, pos);
    storage.snapBytes = snapBytes;
    return { storage, stats };
  }

  append(payload: Buffer): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error('storage is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'frame', frame: encodeFrame(payload), resolve, reject });
      this.schedule();
    });
  }

  barrier(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (!this.flushing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'frame', frame: Buffer.alloc(0), resolve, reject });
      this.schedule();
    });
  }

  logBytes(): number {
    return this.pos;
  }

  snapshotBytes(): number {
    return this.snapBytes;
  }

  // Appends arriving in the same turn of the event loop, or while a batch is being written,
  // are written together by the next batch.
  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (head.kind === 'switch') {
          this.queue.shift();
          await this.fh.sync();
          await this.fh.close();
          this.fh = head.fh;
          this.gen = head.gen;
          this.pos = 0;
          this.dirty = false;
          head.done();
          continue;
        }
        let end = 0;
        while (end < this.queue.length && this.queue[end]!.kind === 'frame') end++;
        const batch = this.queue.splice(0, end) as Array<Extract<QueueItem, { kind: 'frame' }>>;
        try {
          if (this.failed) throw this.failed;
          const bytes = Buffer.concat(batch.map((b) => b.frame));
          if (bytes.length > 0) {
            this.batches++;
            const { bytesWritten } = await this.fh.write(bytes, 0, bytes.length, this.pos);
            if (bytesWritten !== bytes.length) {
              throw new Error(`short write to the log (${bytesWritten} of ${bytes.length} bytes)`);
            }
            this.pos += bytes.length;
            if (this.opts.fsync === 'always') await this.fh.datasync();
            else this.dirty = true;
          }
          for (const b of batch) b.resolve();
        } catch (e) {
          // After a failed write or fsync the file's state is unknown: refuse all further writes.
          const err = e instanceof Error ? e : new Error(String(e));
          if (!this.failed)
            (this.opts.log ?? (() => {}))(`storage: FATAL log write failed: ${err.message}`);
          this.failed = err;
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private intervalSync(): void {
    if (!this.dirty || this.failed || this.closed) return;
    this.dirty = false;
    const fh = this.fh;
    fh.datasync().catch((e: unknown) => {
      // a handle swapped out by compaction was synced and closed by the switch itself
      if (fh === this.fh && !this.closed) {
        (this.opts.log ?? (() => {}))(`storage: interval fsync failed: ${String(e)}`);
      }
    });
  }

  compact(snapshot: () => Iterable<Buffer>): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    this.compacting ??= this.doCompact(snapshot).finally(() => {
      this.compacting = undefined;
    });
    return this.compacting;
  }

  private async doCompact(snapshot: () => Iterable<Buffer>): Promise<void> {
    const { dir } = this.opts;
    const oldGen = this.gen;
    const newGen = oldGen + 1;
    const newFh = await open(join(dir, name('log', newGen)), 'w');
    await newFh.sync();
    await fsyncDir(dir);
    // The cut: synchronously capture the state and queue the switch behind every append made so
    // far, so the old log ends exactly where the snapshot begins.
    const records = snapshot();
    const switched = new Promise<void>((done) => {
      this.queue.push({ kind: 'switch', fh: newFh, gen: newGen, done });
      this.schedule();
    });
    const tmp = join(dir, `${name('snap', newGen)}.tmp`);
    const out = await open(tmp, 'w');
    try {
      // encode and write in chunks, yielding to the event loop between them
      let pos = 0;
      let chunk: Buffer[] = [];
      let chunkBytes = 0;
      const flushChunk = async (): Promise<void> => {
        const bytes = Buffer.concat(chunk, chunkBytes);
        chunk = [];
        chunkBytes = 0;
        const { bytesWritten } = await out.write(bytes, 0, bytes.length, pos);
        if (bytesWritten !== bytes.length) throw new Error('short write to the snapshot');
        pos += bytes.length;
      };
      for (const p of records) {
        const f = encodeFrame(p);
        chunk.push(f);
        chunkBytes += f.length;
        if (chunkBytes >= SNAPSHOT_CHUNK_BYTES) await flushChunk();
      }
      if (chunkBytes > 0) await flushChunk();
      await out.sync();
      this.snapBytes = pos;
    } finally {
      await out.close();
    }
    await rename(tmp, join(dir, name('snap', newGen)));
    await fsyncDir(dir);
    await switched;
    await rm(join(dir, name('log', oldGen)), { force: true });
    const files = await readdir(dir);
    for (const f of files) {
      const g = parseGen(f, 'snap');
      if (g !== undefined && g < newGen) await rm(join(dir, f), { force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.compacting?.catch(() => {});
    await this.barrier().catch(() => {});
    while (this.flushing) await new Promise((r) => setImmediate(r));
    if (!this.failed) await this.fh.sync().catch(() => {});
    await this.fh.close();
  }
}
