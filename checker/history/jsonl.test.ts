import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBack } from '../testing/read-back.js';
import { HistoryError } from './errors.js';
import type { HistoryEvent, Key, ProcessId } from './event.js';
import { generateHistory } from './generate.js';
import { JsonlHistoryWriter, readJsonlEvents, readJsonlHistory } from './jsonl.js';

let dir: string;
let n = 0;
const tmp = (name = 'history.jsonl') => join(dir, `${n++}-${name}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-jsonl-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeAll(file: string, events: readonly HistoryEvent[], bufferSize?: number) {
  const w = await JsonlHistoryWriter.open(file, bufferSize === undefined ? {} : { bufferSize });
  for (const e of events) w.append(e);
  await w.close();
}

/** Integers JSON.parse would round: read back exactly, as bigints. */
const unsafeInteger = fc.oneof(
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n }),
  fc.bigInt({ min: -(2n ** 64n), max: -(2n ** 53n) }),
);

/**
 * Well-formed histories: a script of steps, each invoking on an idle slot or completing a busy
 * one (a slot's process id is retired after info), with nemesis events, arbitrary JSON values,
 * keys and extra fields, and times that never decrease (equal times included).
 */
const step = fc.record({
  slot: fc.nat({ max: 4 }),
  kind: fc.constantFrom('op', 'op', 'nemesis'),
  type: fc.constantFrom('ok', 'fail', 'info'),
  f: fc.constantFrom('read', 'write', 'cas', 'add', 'partition-start'),
  key: fc.option(fc.oneof(fc.string(), fc.integer(), unsafeInteger), { nil: undefined }),
  value: fc.option(
    fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      unsafeInteger,
      fc.array(fc.oneof(unsafeInteger, fc.integer(), fc.string()), { maxLength: 3 }),
    ),
    { nil: undefined },
  ),
  node: fc.option(fc.constantFrom('n1', 'n2'), { nil: undefined }),
  extra: fc.option(
    fc.dictionary(
      fc.string().map((s) => `x_${s}`),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    {
      nil: undefined,
    },
  ),
  dt: fc.oneof(
    fc.constant(0),
    fc.nat({ max: 1_000_000 }),
    fc.double({ min: 0, max: 1e6, noNaN: true }),
  ),
});

const wellFormedHistory = fc
  .record({ names: fc.boolean(), steps: fc.array(step, { maxLength: 80 }) })
  .map(({ names, steps }) => {
    const events: HistoryEvent[] = [];
    const slots: { process: ProcessId; open?: { f: string; key?: Key } | undefined }[] = [];
    let fresh = 0;
    const id = (): ProcessId => (names ? `client-${fresh++}` : fresh++);
    for (let i = 0; i < 5; i++) slots.push({ process: id() });
    let time = 0;
    for (const s of steps) {
      time += s.dt;
      const base: Record<string, unknown> = { index: events.length, time, ...(s.extra ?? {}) };
      if (s.value !== undefined) base.value = readBack(s.value);
      if (s.node !== undefined) base.node = s.node;
      if (s.kind === 'nemesis') {
        events.push({ ...base, process: 'nemesis', type: 'info', f: s.f } as HistoryEvent);
        continue;
      }
      const slot = slots[s.slot]!;
      if (slot.open === undefined) {
        if (s.key !== undefined) base.key = s.key;
        events.push({ ...base, process: slot.process, type: 'invoke', f: s.f } as HistoryEvent);
        slot.open = s.key === undefined ? { f: s.f } : { f: s.f, key: s.key };
      } else {
        if (slot.open.key !== undefined) base.key = slot.open.key;
        events.push({
          ...base,
          process: slot.process,
          type: s.type,
          f: slot.open.f,
        } as HistoryEvent);
        slot.open = undefined;
        if (s.type === 'info') slot.process = id();
      }
    }
    return events.map((e) => readBack(e) as HistoryEvent);
  });

describe('JSONL history', () => {
  it('round-trips a generated history through the writer and the reader', async () => {
    const events = generateHistory({ seed: 7, ops: 3000, clients: 8, keys: 20, nemesisEvery: 50 });
    const file = tmp();
    await writeAll(file, events, 1024);
    const read = await readJsonlHistory(file);
    expect(read.warnings).toEqual([]);
    expect(read.events).toEqual(events);
    const streamed: number[] = [];
    for await (const { event, line } of readJsonlEvents(file)) {
      expect(line).toBe(event.index + 1);
      streamed.push(event.index);
    }
    expect(streamed).toEqual(events.map((e) => e.index));
  });

  it('property: any well-formed history round-trips to identical events', async () => {
    await fc.assert(
      fc.asyncProperty(
        wellFormedHistory,
        fc.integer({ min: 1, max: 4096 }),
        async (events, bufferSize) => {
          const file = tmp();
          await writeAll(file, events, bufferSize);
          const read = await readJsonlHistory(file);
          expect(read.warnings).toEqual([]);
          expect(read.events).toEqual(events);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('writes one JSON object per line, appending to what is already there', async () => {
    const file = tmp();
    const [a, b, c, d] = generateHistory({ seed: 3, ops: 2, clients: 1, infoRate: 0 });
    await writeAll(file, [a!, b!]);
    const before = await readFile(file, 'utf8');
    const w = await JsonlHistoryWriter.open(file, { wellFormed: false });
    w.append(c!);
    w.append(d!);
    await w.close();
    await w.close(); // idempotent
    const after = await readFile(file, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect(after.split('\n')).toEqual([a, b, c, d].map((e) => JSON.stringify(e)).concat(['']));
  });

  it('makes appended events readable after flush, before close', async () => {
    const file = tmp();
    const events = generateHistory({ seed: 4, ops: 10 });
    const w = await JsonlHistoryWriter.open(file);
    for (const e of events.slice(0, 5)) w.append(e);
    await w.flush();
    expect((await readJsonlHistory(file, { wellFormed: false })).events).toEqual(
      events.slice(0, 5),
    );
    for (const e of events.slice(5)) w.append(e);
    await w.sync();
    expect((await readJsonlHistory(file)).events).toEqual(events);
    expect(w.count).toBe(events.length);
    await w.close();
    expect(() => w.append(events[0]!)).toThrow(/append after close/);
  });

  it('refuses an event a reader would reject, naming the file and line', async () => {
    const file = tmp();
    const w = await JsonlHistoryWriter.open(file);
    w.append({ index: 0, time: 5, process: 1, type: 'invoke', f: 'read' });
    expect(() =>
      w.append({
        index: 1,
        time: 6,
        process: 1,
        type: 'done',
        f: 'read',
      } as unknown as HistoryEvent),
    ).toThrow(
      new HistoryError(
        { file, line: 2, field: 'type' },
        'expected one of invoke|ok|fail|info, got "done"',
      ),
    );
    expect(() => w.append({ index: 1, time: 6, process: 1, type: 'invoke', f: 'write' })).toThrow(
      `${file}:2: process 1 invokes "write" while its "read" invoked at line 1 has not completed`,
    );
    w.append({ index: 1, time: 6, process: 1, type: 'ok', f: 'read', value: 3 });
    await w.close();
    expect((await readJsonlHistory(file)).events).toHaveLength(2);
  });

  it('skips blank lines, reads CRLF, and keeps a complete last line without a newline', async () => {
    const file = tmp();
    const lines = [
      '{"index":0,"time":1,"process":0,"type":"invoke","f":"read"}',
      '',
      '   ',
      '{"index":1,"time":2,"process":0,"type":"ok","f":"read","value":1}',
    ];
    await writeFile(file, lines.join('\r\n'));
    const h = await readJsonlHistory(file);
    expect(h.warnings).toEqual([]);
    expect(h.events.map((e) => e.type)).toEqual(['invoke', 'ok']);
    const seen: number[] = [];
    for await (const { line } of readJsonlEvents(file)) seen.push(line);
    expect(seen).toEqual([1, 4]);
  });

  it('ignores a byte-order mark', async () => {
    const file = tmp();
    await writeFile(file, '\uFEFF{"index":0,"time":1,"process":0,"type":"invoke","f":"read"}\n');
    expect((await readJsonlHistory(file)).events).toEqual([
      { index: 0, time: 1, process: 0, type: 'invoke', f: 'read' },
    ]);
  });

  it('reads an empty history', async () => {
    const file = tmp();
    await writeFile(file, '');
    expect(await readJsonlHistory(file)).toEqual({ events: [], warnings: [] });
  });

  it('names the line of a bad line in a history larger than one read chunk', async () => {
    const file = tmp();
    const events = generateHistory({ seed: 5, ops: 12_000, clients: 4 });
    const text = events.map((e) => JSON.stringify(e)).join('\n');
    const bad = 15_001;
    const lines = text.split('\n');
    lines[bad - 1] = lines[bad - 1]!.replace('"type":"', '"type":"x');
    await writeFile(file, `${lines.join('\n')}\n`);
    await expect(readJsonlHistory(file)).rejects.toThrow(
      `${file}:${bad}: field "type": expected one of`,
    );
  });
});

describe('JSONL integers beyond 2^53', () => {
  it('reads them exactly, as bigints, in a large file and in a small one; safe ones as numbers', async () => {
    const line = (i: number, value: string) =>
      `{"index":${i},"time":${i},"process":0,"type":"${i % 2 === 0 ? 'invoke' : 'ok'}","f":"write","value":${value}}`;
    for (const count of [4, 60_000]) {
      const lines = Array.from({ length: count }, (_, i) => line(i, String(i)));
      // One pair of lines in the middle of a chunk carries integers a double cannot tell apart.
      const mid = 2 * Math.floor(count / 4);
      lines[mid] = line(mid, '9007199254740993');
      lines[mid + 1] = line(mid + 1, '[9007199254740992,-18446744073709551617,1.5]');
      const file = tmp();
      await writeFile(file, `${lines.join('\n')}\n`);
      const { events } = await readJsonlHistory(file);
      expect(events).toHaveLength(count);
      expect(events[mid]!.value).toBe(9007199254740993n);
      expect(events[mid + 1]!.value).toEqual([9007199254740992n, -18446744073709551617n, 1.5]);
      expect(events[mid + 2]?.value ?? 0).toBe(count > 4 ? mid + 2 : 0);
      expect(events[0]!.value).toBe(0);
    }
  });

  it('reads a big integer key exactly, and a big time as the nearest double', async () => {
    const file = tmp();
    await writeFile(
      file,
      '{"index":0,"time":1700000000000000001,"process":0,"type":"invoke","f":"read","key":18446744073709551615}\n' +
        '{"index":1,"time":1700000000000000002,"process":0,"type":"ok","f":"read","key":18446744073709551615,"value":null}\n',
    );
    const { events } = await readJsonlHistory(file);
    expect(events.map((e) => [e.key, e.time])).toEqual([
      [18446744073709551615n, 1700000000000000000],
      [18446744073709551615n, 1700000000000000000],
    ]);
  });
});
