import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ClientOp } from '../history/client-op.js';
import type { HistoryEvent } from '../history/event.js';
import type { Operation, PartitionInfo } from '../porcupine/types.js';
import { renderTimeline } from './render.js';
import type { WholeRunHead } from './whole-run.js';

function ev(time: number, process: number, type: string, f: string, value?: unknown, key?: string) {
  return {
    index: 0,
    time,
    process,
    type,
    f,
    ...(value !== undefined ? { value } : {}),
    ...(key !== undefined ? { key } : {}),
  } as HistoryEvent;
}

function op(
  process: number,
  f: string,
  call: number,
  ret: number,
  status: ClientOp['status'],
  value?: unknown,
  key = 'k',
): ClientOp {
  const completion = ev(ret, process, status, f, value, key);
  return {
    process,
    f,
    key,
    status,
    invoke: ev(call, process, 'invoke', f, f === 'read' ? undefined : value, key),
    ...(status !== 'pending' ? { completion } : {}),
    call,
    return: status === 'ok' || status === 'fail' ? ret : Number.POSITIVE_INFINITY,
  };
}

const nemesis = (time: number, f: string, value?: unknown) =>
  ({ index: 0, time, process: 'nemesis', type: 'info', f, value }) as HistoryEvent;

/** The whole-run data of a page, its columns unpacked as the page's script does. */
/** The checker's operations for `ops`, in order (what a partition's evidence holds). */
const operationsOf = (ops: readonly ClientOp[]): Operation<unknown, unknown>[] =>
  ops.map((o, id) => ({
    clientId: o.process as number,
    input: o.invoke.value,
    output: o.completion?.value,
    call: o.call,
    return: o.return,
    id,
  }));

function embedded(html: string) {
  const m = /<script type="application\/json" id="wr-data">(.*?)<\/script>/s.exec(html);
  expect(m).not.toBeNull();
  const head = JSON.parse(m![1]!) as WholeRunHead;
  const bytes = gunzipSync(Buffer.from(head.data, 'base64'));
  let p = 0;
  const rd = () => {
    let x = 0;
    let mul = 1;
    let b: number;
    do {
      b = bytes[p++]!;
      x += (b & 127) * mul;
      mul *= 128;
    } while (b >= 128);
    return x;
  };
  const rows: {
    call: number;
    dur: number;
    row: number;
    f: string;
    status: number;
    key: string;
    value: string;
  }[] = [];
  let t = 0;
  for (let i = 0; i < head.n; i++) {
    t += rd();
    const d = rd();
    const row = rd();
    const fs = rd();
    const key = rd();
    const value = rd();
    rows.push({
      call: t,
      dur: d - 1,
      row,
      f: head.fs[fs >> 2]!,
      status: fs & 3,
      key: head.keys[key]!,
      value: head.values[value]!,
    });
  }
  expect(p).toBe(bytes.length);
  return { head, rows };
}

describe('the whole-run view', () => {
  it('embeds every op of a 100k-op run, in call order, with faults and the heal', () => {
    const ops: ClientOp[] = [];
    for (let i = 0; i < 100_000; i++) {
      const st = i % 50 === 3 ? 'fail' : 'ok';
      ops.push(
        op(i % 10, i % 3 === 0 ? 'write' : 'read', i * 100_000, i * 100_000 + 50_000, st, i % 5),
      );
    }
    const events = [
      nemesis(1e9, 'partition-start', { n1: ['n2'] }),
      nemesis(2e9, 'partition-stop'),
      nemesis(5e9, 'kill', ['n3']),
      nemesis(6e9, 'start', ['n3']),
      nemesis(9e9, 'heal-all-start'),
      nemesis(9.1e9, 'heal-all-stop'),
    ];
    const html = renderTimeline({ ops, events, result: { valid: true, partitions: [] } });
    expect(html.length).toBeLessThan(1_000_000);
    const { head, rows } = embedded(html);
    expect(head.total).toBe(100_000);
    expect(rows).toHaveLength(100_000);
    expect(rows[0]).toMatchObject({
      call: 0,
      dur: 50,
      f: 'write',
      status: 0,
      key: 'k',
      value: '0',
    });
    expect(rows[3]).toMatchObject({ call: 300, f: 'write', status: 2 });
    expect(rows.at(-1)!.call).toBe(99_999 * 100);
    expect(head.procs).toHaveLength(10);
    expect(head.faults.filter((f) => !f.heal).map((f) => [f.kind, f.start, f.end])).toEqual([
      ['partition', 1e6, 2e6],
      ['kill', 5e6, 6e6],
    ]);
    expect(head.faults.filter((f) => f.heal)).toHaveLength(1);
    expect(html).toContain('heal (every fault healed)</span>');
  });

  it('thins past the cap, keeping every op that did not complete ok, and the first and last', () => {
    const ops: ClientOp[] = [];
    for (let i = 0; i < 1000; i++) {
      ops.push(op(i % 4, 'read', i * 1000, i * 1000 + 500, i % 100 === 50 ? 'fail' : 'ok', i));
    }
    const html = renderTimeline(
      { ops, result: { valid: true, partitions: [] } },
      { maxEmbeddedOps: 100 },
    );
    const { head, rows } = embedded(html);
    expect(head.n).toBeLessThanOrEqual(100);
    expect(head.n).toBeGreaterThan(80);
    expect(rows.filter((r) => r.status === 2)).toHaveLength(10);
    expect(rows[0]!.call).toBe(0);
    expect(rows.at(-1)!.call).toBe(999);
    expect(html).toContain('thinned to');
  });

  it('puts processes that never overlap in one row (a worker after an op of unknown outcome)', () => {
    const ops = [
      op(0, 'write', 0, 10, 'info', 1),
      op(10, 'read', 20, 30, 'ok'),
      op(1, 'read', 0, 30, 'ok'),
    ];
    const { head, rows } = embedded(
      renderTimeline({ ops, result: { valid: true, partitions: [] } }),
    );
    expect(head.procs).toEqual(['p 0, +1 later', 'p 1']);
    expect(head.rowProcs[0]).toEqual([
      [0, 'p 0'],
      [0, 'p 10'],
    ]);
    expect(rows.map((r) => r.row)).toEqual([0, 1, 0]);
  });

  it('never lets markup from the history out of its data block', () => {
    const evil = '</script><img src=x onerror=alert(1)>';
    const ops = [op(0, 'write', 0, 10, 'ok', evil, evil), op(1, 'read', 5, 20, 'ok', evil, evil)];
    const html = renderTimeline({
      ops,
      events: [nemesis(1, evil, evil)],
      result: { valid: true, partitions: [] },
    });
    expect(html).not.toContain('<img');
    expect(html.match(/<\/script>/g)).toHaveLength(3); // the data block and the two scripts
    const { head, rows } = embedded(html);
    expect(rows[0]!.key).toBe(evil);
    expect(head.faults[0]!.label).toBe(evil);
  });

  it('points the view at where each failing key got stuck', () => {
    const ops = [
      op(0, 'write', 0, 10, 'ok', 1, 'a'),
      op(1, 'write', 20, 30, 'ok', 2, 'a'),
      op(2, 'read', 40, 50, 'ok', 1, 'a'),
    ];
    const operations = operationsOf(ops);
    const info: PartitionInfo<unknown, unknown> = {
      operations,
      initialState: 'null',
      longest: [
        [
          { op: 0, state: '1' },
          { op: 1, state: '2' },
        ],
      ],
      stuck: [2],
      descriptions: ['write 1', 'write 2', 'read 1'],
    };
    const html = renderTimeline({
      ops,
      result: { valid: false, partitions: [{ key: 'a', valid: false, operations: 3, info }] },
    });
    const { head } = embedded(html);
    expect(head.anomalies).toEqual([{ key: 'a', stuck: [2], from: 0, to: 0 }]);
    expect(html).toContain('data-act="anomaly"');
  });
});

describe('order labels of an anomaly drawing', () => {
  it('never overlap, however dense the linearization', () => {
    // 1200 short ops on 3 processes, all linearized: far more labels than fit side by side.
    const ops: ClientOp[] = [];
    for (let i = 0; i < 1200; i++) ops.push(op(i % 3, 'write', i * 10, i * 10 + 25, 'ok', i));
    ops.push(op(3, 'read', 11990, 12000, 'ok', -1));
    const operations = operationsOf(ops);
    const info: PartitionInfo<unknown, unknown> = {
      operations,
      initialState: 'null',
      longest: [Array.from({ length: 1200 }, (_, k) => ({ op: k, state: String(k) }))],
      stuck: [1200],
      descriptions: ops.map((_, i) => `op ${i}`),
    };
    const html = renderTimeline(
      {
        ops,
        result: { valid: false, partitions: [{ key: 'k', valid: false, operations: 1201, info }] },
      },
      { maxOps: 2000 },
    );
    const boxes = [
      ...html.matchAll(
        /<g class="step">.*?<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="12"/gs,
      ),
    ].map((m) => ({ x: +m[1]!, y: +m[2]!, w: +m[3]!, h: 12 }));
    expect(boxes.length).toBeGreaterThan(20);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `labels ${i} and ${j} overlap`).toBe(false);
      }
    }
    // Those that did not fit are said to be left out.
    expect(html).toMatch(/\d+ order labels left out where they would overlap others/);
  });
});
