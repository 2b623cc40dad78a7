/**
 * Every reference history in ../shared/testdata imports without error, to as many events as
 * the file has ops (counted here independently of the importers), and a few events are
 * checked field by field against the source text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { HistoryFormat } from './detect.js';
import { detectFormat } from './detect.js';
import { loadHistory } from './load.js';
import { splitHistory } from './pair.js';

const testdata = fileURLToPath(new URL('../../../shared/testdata/', import.meta.url));

const FOLDERS: [string, HistoryFormat, (text: string) => number][] = [
  // One op per `jepsen.util - ` line.
  [
    'porcupine/etcd',
    'jepsen-log',
    (t) => t.split('\n').filter((l) => l.includes('jepsen.util - ')).length,
  ],
  // One op per non-empty line.
  ['porcupine/kv', 'edn-lines', (t) => t.split('\n').filter((l) => l.trim() !== '').length],
  // One :process key per op map (comments and error strings do not have one).
  ['knossos/cas-register/good', 'edn', (t) => (t.match(/:process\b/g) ?? []).length],
  ['knossos/cas-register/bad', 'edn', (t) => (t.match(/:process\b/g) ?? []).length],
];

describe('reference histories import', () => {
  it('every reference file loads, detected as its format, with one event per op', async () => {
    let files = 0;
    for (const [folder, format, countOps] of FOLDERS) {
      for (const name of readdirSync(join(testdata, folder)).sort()) {
        const path = join(testdata, folder, name);
        const h = await loadHistory(path);
        expect(h.format, path).toBe(format);
        expect(await detectFormat(path)).toBe(format);
        expect(h.events.length, path).toBe(countOps(readFileSync(path, 'utf8')));
        expect(h.events.length, path).toBeGreaterThan(0);
        // Only a time inversion in one Jepsen file is worth a warning.
        for (const w of h.warnings) expect(w.message, path).toMatch(/:time .* is earlier than/);
        splitHistory(h.events); // pairs without complaint
        files += 1;
      }
    }
    expect(files).toBeGreaterThanOrEqual(70 + 6 + 4 + 70);
  });

  it('reads Jepsen log lines: process, type, f, nil, integers, [from to] and :timed-out', async () => {
    const h = await loadHistory(join(testdata, 'porcupine/etcd/etcd_000.log'));
    expect(h.events.slice(0, 3)).toEqual([
      { index: 0, time: 0, process: 0, type: 'invoke', f: 'read', value: null },
      { index: 1, time: 1, process: 3, type: 'invoke', f: 'read', value: null },
      { index: 2, time: 2, process: 2, type: 'invoke', f: 'write', value: 4 },
    ]);
    const text = readFileSync(join(testdata, 'porcupine/etcd/etcd_000.log'), 'utf8').split('\n');
    const casLine = text.findIndex((l) => l.includes('\t:cas\t['));
    const m = /(\d+)\t:(\w+)\t:cas\t\[(\d+) (\d+)\]/.exec(text[casLine]!)!;
    const cas = h.events.find((e) => e.f === 'cas')!;
    expect(cas).toMatchObject({
      process: Number(m[1]),
      type: m[2],
      value: [Number(m[3]), Number(m[4])],
    });
    const timedOut = h.events.find((e) => e.type === 'info')!;
    expect(timedOut.value).toBe('timed-out');
  });

  it('reads Knossos EDN: comments, :error values, :nemesis and :time', async () => {
    const bug = await loadHistory(join(testdata, 'knossos/cas-register/good/cas-register-bug.edn'));
    expect(bug.events[0]).toEqual({
      index: 0,
      time: 0,
      process: 4,
      type: 'invoke',
      f: 'write',
      value: 2,
    });
    const fail = await loadHistory(
      join(testdata, 'knossos/cas-register/bad/immediate-failure.edn'),
    );
    expect(fail.events[2]).toEqual({
      index: 2,
      time: 2,
      process: 101,
      type: 'fail',
      f: 'write',
      value: 3,
      error: ['temporarily-unavailable', null],
    });
    const nemesis = await loadHistory(
      join(testdata, 'knossos/cas-register/good/mongodb-v0-ack-rollback-.edn'),
    );
    expect(splitHistory(nemesis.events).nemesis.length).toBe(nemesis.events.length);
    expect(nemesis.events[0]).toMatchObject({
      process: 'nemesis',
      type: 'info',
      f: 'isolate',
      value: null,
    });
    const rethink = await loadHistory(
      join(testdata, 'knossos/cas-register/bad/rethink-fail-smaller.edn'),
    );
    expect(rethink.events[0]).toMatchObject({
      time: 0,
      sourceTime: 99286665244,
      process: 101,
      f: 'cas',
      value: [1, 4],
    });
    expect(rethink.warnings).toHaveLength(1);
  });

  it('reads one-map-per-line EDN with string keys', async () => {
    const h = await loadHistory(join(testdata, 'porcupine/kv/c01-ok.txt'));
    expect(h.events[0]).toEqual({
      index: 0,
      time: 0,
      process: 0,
      type: 'invoke',
      f: 'append',
      key: '0',
      value: 'x 0 0 y',
    });
  });

  it('keeps :time when it never decreases, and replaces :index by the position', async () => {
    const path = fileURLToPath(new URL('./fixtures/times.edn', import.meta.url));
    const h = await loadHistory(path);
    expect(h.warnings).toEqual([]);
    expect(h.events).toEqual([
      { index: 0, time: 1500, process: 0, type: 'invoke', f: 'write', value: 1 },
      { index: 1, time: 2500, process: 0, type: 'ok', f: 'write', value: 1 },
      { index: 2, time: 2500, process: 'nemesis', type: 'info', f: 'start', value: { n1: ['n2'] } },
    ]);
  });

  it('reads the tagged op records newer Jepsen writes', async () => {
    const path = fileURLToPath(new URL('./fixtures/jepsen-op-records.edn', import.meta.url));
    const h = await loadHistory(path);
    expect(h.format).toBe('edn');
    expect(h.events).toEqual([
      { index: 0, time: 1000, process: 0, type: 'invoke', f: 'write', value: 3 },
      { index: 1, time: 2000, process: 0, type: 'ok', f: 'write', value: 3 },
      { index: 2, time: 3000, process: 'nemesis', type: 'invoke', f: 'kill', value: ['n1'] },
    ]);
  });
});
