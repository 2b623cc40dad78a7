import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { queryLogs, stampOf } from './logs.js';

const at = (iso: string) => Date.parse(iso);

describe('log line timestamps', () => {
  it('read the forms the systems under test write', () => {
    const cases: [string, string][] = [
      // our store and the harness
      ['2026-12-06T16:27:54.518Z INFO n1 up', '2026-12-06T16:27:54.518Z'],
      // etcd (JSON lines, a zone offset)
      [
        '{"level":"info","ts":"2026-12-06T16:27:54.518+0100","msg":"x"}',
        '2026-12-06T15:27:54.518Z',
      ],
      // ZooKeeper (log4j: a space and a comma)
      ['2026-12-06 16:27:54,518 [myid:1] - INFO  [main:QuorumPeer]', '2026-12-06T16:27:54.518Z'],
      // Redis (day, month name, year)
      [
        '12:M 06 Dec 2026 16:27:54.518 * Ready to accept connections tcp',
        '2026-12-06T16:27:54.518Z',
      ],
      ['7:S 6 Jan 2026 01:02:03.4 # Connection with master lost.', '2026-01-06T01:02:03.400Z'],
      // microseconds are cut to milliseconds
      ['2026-12-06T16:27:54.518999Z x', '2026-12-06T16:27:54.518Z'],
    ];
    for (const [line, want] of cases) expect(stampOf(line), line).toBe(at(want));
    expect(stampOf('no time here')).toBeUndefined();
    expect(stampOf(`${'x'.repeat(130)} 2026-12-06T16:27:54Z`)).toBeUndefined();
  });
});

describe('queryLogs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('places Redis lines, and lines without a time, on the run axis', () => {
    mkdirSync(join(dir, 'nodes', 'n1'), { recursive: true });
    writeFileSync(
      join(dir, 'nodes', 'n1', 'redis.log'),
      [
        '1:M 06 Dec 2026 10:00:01.000 * Server initialized',
        '  a continuation line',
        '1:M 06 Dec 2026 10:00:05.500 # Connection lost',
        '',
      ].join('\n'),
    );
    const started = at('2026-12-06T10:00:00.000Z');
    const all = queryLogs(dir, started, {});
    expect(all[0]!.lines.map((l) => l.t)).toEqual([1, 1, 5.5]);
    const near = queryLogs(dir, started, { at: 5, windowS: 1 });
    expect(near[0]!.lines.map((l) => l.text)).toEqual([
      '1:M 06 Dec 2026 10:00:05.500 # Connection lost',
    ]);
  });
});
