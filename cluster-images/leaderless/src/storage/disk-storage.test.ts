import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { FsyncMode } from '../replica/types.js';
import { DiskStorage } from './disk-storage.js';
import { HEADER_BYTES } from './frame.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'leaderless-storage-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function openCollect(dir: string, fsync: FsyncMode = 'never') {
  const got: string[] = [];
  const { storage, stats } = await DiskStorage.open({ dir, fsync }, (p) => {
    got.push(p.toString());
  });
  return { storage, stats, got };
}

const LOG1 = 'log-000000000001';
const recs = [
  'alpha',
  'a somewhat longer record {"x":[1,2,3]}',
  'γδε unicode',
  'fourth',
  'the last record, 40 bytes long......',
];

async function writeRecords(dir: string): Promise<Buffer> {
  const { storage } = await openCollect(dir);
  await Promise.all(recs.map((r) => storage.append(Buffer.from(r))));
  await storage.close();
  return readFile(join(dir, LOG1));
}

describe('disk storage recovery', () => {
  it('keeps every complete record and truncates a torn tail at any byte, then appends', async () => {
    const src = await tempDir();
    const full = await writeRecords(src);
    const lastStart = full.length - HEADER_BYTES - Buffer.byteLength(recs.at(-1)!);
    for (let cut = lastStart; cut < full.length; cut++) {
      const dir = await tempDir();
      await writeFile(join(dir, LOG1), full.subarray(0, cut));
      const { storage, stats, got } = await openCollect(dir);
      expect(got).toEqual(recs.slice(0, -1));
      expect(stats.truncatedBytes).toBe(cut - lastStart);
      expect((await stat(join(dir, LOG1))).size).toBe(lastStart);
      await storage.append(Buffer.from('after'));
      await storage.close();
      const again = await openCollect(dir);
      expect(again.got).toEqual([...recs.slice(0, -1), 'after']);
      expect(again.stats.truncatedBytes).toBe(0);
      await again.storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('treats a flipped byte anywhere in the last record as a corrupt tail', async () => {
    const src = await tempDir();
    const full = await writeRecords(src);
    const lastStart = full.length - HEADER_BYTES - Buffer.byteLength(recs.at(-1)!);
    for (let at = lastStart; at < full.length; at++) {
      const dir = await tempDir();
      const bad = Buffer.from(full);
      bad[at]! ^= 0x10;
      await writeFile(join(dir, LOG1), bad);
      const { storage, got, stats } = await openCollect(dir);
      expect(got).toEqual(recs.slice(0, -1));
      expect(stats.truncatedBytes).toBe(full.length - lastStart);
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('truncates a zero-filled tail (as a crash can leave after the last write)', async () => {
    const src = await tempDir();
    const full = await writeRecords(src);
    const dir = await tempDir();
    await writeFile(join(dir, LOG1), Buffer.concat([full, Buffer.alloc(4096)]));
    const { storage, got, stats } = await openCollect(dir);
    expect(got).toEqual(recs);
    expect(stats.truncatedBytes).toBe(4096);
    await storage.close();
  });

  it.each(['always', 'interval', 'never'] as const)(
    'fsync %s: concurrent appends are group-committed and all recovered in order',
    async (mode) => {
      const dir = await tempDir();
      const { storage } = await openCollect(dir, mode);
      const n = 500;
      await Promise.all(Array.from({ length: n }, (_, i) => storage.append(Buffer.from(`r${i}`))));
      expect(storage.batches).toBeLessThan(n / 10); // appends in one turn share one write
      await storage.close();
      const { storage: s2, got } = await openCollect(dir, mode);
      expect(got).toEqual(Array.from({ length: n }, (_, i) => `r${i}`));
      await s2.close();
    },
  );

  it('compaction: snapshot plus the log after the cut replay to exactly what was appended', async () => {
    const dir = await tempDir();
    const { storage } = await openCollect(dir, 'always');
    // the "state" is the list of everything appended; the snapshot is that list at the cut
    const appended: string[] = [];
    const add = (r: string): Promise<void> => {
      appended.push(r);
      return storage.append(Buffer.from(r));
    };
    const snapshot = () => [Buffer.from(`SNAP${JSON.stringify(appended)}`)];
    for (let i = 0; i < 10; i++) await add(`old${i}`);
    const work: Array<Promise<void>> = [add('before')];
    work.push(storage.compact(snapshot));
    for (let i = 0; i < 50; i++) {
      work.push(add(`during${i}`));
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(work);
    await add('after');
    await storage.close();
    expect((await readdir(dir)).sort()).toEqual(['log-000000000002', 'snap-000000000002']);
    const { storage: s2, got } = await openCollect(dir);
    expect(got[0]!.startsWith('SNAP')).toBe(true);
    const rebuilt = [...(JSON.parse(got[0]!.slice(4)) as string[]), ...got.slice(1)];
    expect(rebuilt).toEqual(appended);
    await s2.close();
  });

  it('after a crash between snapshot and log switch, the older log is ignored or replayed as needed', async () => {
    const dir = await tempDir();
    const { storage } = await openCollect(dir);
    await storage.append(Buffer.from('a'));
    await storage.close();
    // crashed before the snapshot was renamed: a temp snapshot and an empty next log
    await writeFile(join(dir, 'snap-000000000002.tmp'), 'partial');
    await writeFile(join(dir, 'log-000000000002'), '');
    const r1 = await openCollect(dir);
    expect(r1.got).toEqual(['a']);
    await r1.storage.append(Buffer.from('b'));
    await r1.storage.close();
    expect((await readdir(dir)).sort()).toEqual([LOG1, 'log-000000000002']);
  });

  it('refuses appends after the storage is closed', async () => {
    const dir = await tempDir();
    const { storage } = await openCollect(dir);
    await storage.close();
    await expect(storage.append(Buffer.from('x'))).rejects.toThrow(/closed/);
  });
});

describe('disk storage under SIGKILL', () => {
  it('fsync never: every append acknowledged before a SIGKILL is recovered', async () => {
    const dir = await tempDir();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./append-child.fixture.ts', import.meta.url)),
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let acked = 0;
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) if (l !== '') acked = Number(l);
        if (acked >= 2000 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
    });
    expect(acked).toBeGreaterThanOrEqual(2000);
    const { storage, got } = await openCollect(dir);
    expect(got.length).toBeGreaterThanOrEqual(acked);
    expect(got.slice(0, acked)).toEqual(Array.from({ length: acked }, (_, i) => `rec${i}`));
    await storage.close();
  });
});
