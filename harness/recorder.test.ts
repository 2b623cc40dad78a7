import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { historyEventSchema } from '../checker/history/event.js';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import { Recorder, serialize } from './recorder.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'faultline-recorder-'));
  dirs.push(d);
  return join(d, 'history.jsonl');
}

const jsonValue = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe('Recorder', () => {
  it('serializes exactly what JSON.stringify would, fields in order', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            index: fc.nat(),
            time: fc.nat(),
            process: fc.oneof(fc.nat(), fc.constant('nemesis')),
            type: fc.constantFrom('invoke', 'ok', 'fail', 'info' as const),
            f: fc.string({ minLength: 1 }),
            key: fc.oneof(fc.string(), fc.integer()),
            value: jsonValue,
            node: fc.string(),
            error: jsonValue,
            extra: jsonValue,
          },
          { requiredKeys: ['index', 'time', 'process', 'type', 'f'] },
        ),
        (e) => {
          const line = serialize(historyEventSchema.parse(e));
          expect(line.endsWith('\n')).toBe(true);
          const back = JSON.parse(line) as Record<string, unknown>;
          const expected = Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined));
          expect(back).toEqual(expected);
        },
      ),
    );
  });

  it('appends indexed, non-decreasing events that the history reader accepts', async () => {
    const file = tempFile();
    const r = new Recorder(file);
    for (let i = 0; i < 50; i++) {
      r.record({ process: i % 5, type: 'invoke', f: 'read', key: 'a' });
      r.record({ process: i % 5, type: 'ok', f: 'read', key: 'a', value: i, node: 'n1' });
    }
    r.record({ process: 'nemesis', type: 'info', f: 'partition-start', value: { n1: ['n2'] } });
    r.close();
    r.close();
    const { events, warnings } = await readJsonlHistory(file);
    expect(warnings).toEqual([]);
    expect(events.map((e) => e.index)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.time).toBeGreaterThanOrEqual(events[i - 1]!.time);
    }
    expect(events.at(-1)).toMatchObject({ process: 'nemesis', value: { n1: ['n2'] } });
    expect(() => r.record({ process: 0, type: 'invoke', f: 'read' })).toThrow(/closed/);
  });

  it('writes buffered events on flush, before close', () => {
    const file = tempFile();
    const r = new Recorder(file, { flushIntervalMs: 60_000 });
    r.record({ process: 0, type: 'invoke', f: 'read' });
    expect(readFileSync(file, 'utf8')).toBe('');
    r.flush();
    expect(readFileSync(file, 'utf8').split('\n').length).toBe(2);
    r.close();
  });

  it('sets index and time on the object it is given, whatever they were', async () => {
    const file = tempFile();
    const r = new Recorder(file);
    const input = { index: 99, time: 5, process: 0, type: 'invoke' as const, f: 'read' };
    const e = r.record(input, 2000);
    expect(e).toBe(input);
    expect(e).toMatchObject({ index: 0, time: 2000 });
    r.close();
    const { events } = await readJsonlHistory(file);
    expect(events).toEqual([{ index: 0, time: 2000, process: 0, type: 'invoke', f: 'read' }]);
  });

  it('never goes back in time, even when given an earlier time', () => {
    const file = tempFile();
    const r = new Recorder(file);
    r.record({ process: 0, type: 'invoke', f: 'read' }, 1000);
    const e = r.record({ process: 0, type: 'ok', f: 'read' }, 10);
    expect(e.time).toBe(1000);
    r.close();
  });
});
