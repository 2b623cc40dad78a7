import { describe, expect, it } from 'vitest';
import type { ClientOp } from '../history/client-op.js';
import type { HistoryEvent } from '../history/event.js';
import type { Operation, PartitionInfo } from '../porcupine/types.js';
import { nemesisIntervals } from './nemesis.js';
import { renderTimeline } from './render.js';
import type { TimelineCheck } from './types.js';

let index = 0;
function ev(
  time: number,
  process: number | string,
  type: HistoryEvent['type'],
  f: string,
  value?: unknown,
  key?: string,
): HistoryEvent {
  return {
    index: index++,
    time,
    process,
    type,
    f,
    ...(value !== undefined ? { value } : {}),
    ...(key !== undefined ? { key } : {}),
  };
}

function op(
  process: number,
  f: string,
  call: number,
  ret: number | undefined,
  status: ClientOp['status'],
  value?: unknown,
  key?: string,
): ClientOp {
  const invoke = ev(call, process, 'invoke', f, f === 'read' ? undefined : value, key);
  const o: ClientOp = {
    process,
    f,
    status,
    invoke,
    call,
    return: status === 'ok' || status === 'fail' ? (ret ?? call) : Number.POSITIVE_INFINITY,
    ...(key !== undefined ? { key } : {}),
  };
  if (status !== 'pending') {
    o.completion = ev(ret ?? call, process, status as HistoryEvent['type'], f, value, key);
  }
  return o;
}

function operation(o: ClientOp, id: number): Operation<unknown, unknown> {
  return {
    clientId: typeof o.process === 'number' ? o.process : 0,
    input: o.invoke.value,
    output: o.completion?.value,
    call: o.call,
    return: o.return,
    id,
  };
}

/** A cas register with a stale read: write 1, write 2, then a read of 1. */
function staleRead() {
  const ops = [
    op(0, 'write', 0, 10, 'ok', 1),
    op(1, 'write', 20, 30, 'ok', 2),
    op(3, 'cas', 22, undefined, 'info', [1, 3]),
    op(2, 'read', 40, 50, 'ok', 1),
  ];
  const info: PartitionInfo<unknown, unknown> = {
    operations: [ops[0]!, ops[1]!, ops[3]!].map((o, i) => operation(o, [0, 1, 3][i]!)),
    initialState: 'null',
    longest: [
      [
        { op: 0, state: '1' },
        { op: 1, state: '2' },
      ],
    ],
    stuck: [2],
    descriptions: ['write 1', 'write 2', 'read → 1 <stale>'],
  };
  const result: TimelineCheck = {
    valid: false,
    model: 'cas-register',
    partitions: [{ key: '', valid: false, operations: 3, info }],
  };
  const events = [
    ev(15, 'nemesis', 'info', 'partition-start', { n1: ['n2', 'n3'] }),
    ev(45, 'nemesis', 'info', 'partition-stop'),
  ];
  return { ops, result, events };
}

describe('renderTimeline', () => {
  it('draws a known anomaly: the stuck op, the linearization, states and the fault', () => {
    const { ops, result, events } = staleRead();
    const html = renderTimeline({ title: 'stale read', ops, result, events });
    expect(html).toContain('<!doctype html>');
    // The stuck op is named (escaped) and highlighted.
    expect(html).toContain('read → 1 &lt;stale&gt;');
    expect(html).not.toContain('<stale>');
    expect(html).toMatch(/<g class="op ok stuck"[^>]*data-i="3"/);
    expect(html).toContain('could not be placed after the longest linearizable prefix');
    // The linearization: numbered steps with the state after each.
    expect(html).toContain('linearized #2; state after: 2');
    expect(html).toContain('#1: write 1\nstate after: 1');
    expect(html).toContain('<polyline class="path"');
    expect(html).toContain('model state after it: 2');
    // The info op is drawn as indeterminate, and the nemesis interval is shaded and labelled.
    expect(html).toMatch(/<g class="op info"/);
    expect(html).toContain('>partition-start</text>');
    expect(html).toContain('{&quot;n1&quot;:[&quot;n2&quot;,&quot;n3&quot;]}');
    expect(html).toContain('p 2');
  });

  it('colours each fault by its kind and names it in the legend, given the fault styles', () => {
    const { ops, result, events } = staleRead();
    // Without styles: a colour per lane and one generic legend entry.
    const plain = renderTimeline({ ops, result, events });
    expect(plain).not.toContain('style="fill:');
    expect(plain).toContain('fault (nemesis)</span>');
    const html = renderTimeline(
      { ops, result, events },
      {
        faultStyles: [
          {
            kind: 'partition',
            open: 'partition-start',
            close: 'partition-stop',
            label: 'net <split>',
            colour: '#0a0b0c',
          },
        ],
      },
    );
    expect(html).toContain('<rect class="shade" style="fill:#0a0b0c"');
    expect(html).toContain('<rect class="lane" style="fill:#0a0b0c"');
    expect(html).toContain('border-color:#0a0b0c"></i>net &lt;split&gt;</span>');
    expect(html).not.toContain('fault (nemesis)</span>');
  });

  it('draws who led, as the cluster said, in a band above the fault lanes, only when told', () => {
    const { ops, result, events } = staleRead();
    const withLeaders = [
      ev(5, 'observer', 'info', 'leader', 'n1'),
      events[0]!,
      ev(25, 'observer', 'info', 'leader', null),
      ev(35, 'observer', 'info', 'leader', 'n2'),
      events[1]!,
    ];
    const html = renderTimeline({ ops, result, events: withLeaders });
    expect(html).toContain('<text class="leaderlabel"');
    const spans = [...html.matchAll(/<g class="leader"><title>([^<]*)<\/title>/g)].map((m) => m[1]);
    expect(spans).toEqual([
      'leader n1 from 5 ns until 25 ns (as the cluster said)',
      'no leader from 25 ns until 35 ns (as the cluster said)',
      'leader n2 from 35 ns until 45 ns (as the cluster said)',
    ]);
    // A dashed line at each change (not at the first answer), and the fault lane below the band.
    expect(html.match(/<line class="leader-change"/g)).toHaveLength(2);
    expect(html).toMatch(/<rect class="lane" x="[\d.]+" y="20"/);
    expect(html).toContain('leader (as the cluster said; a dashed line at each change)</span>');
    // Without leader events: no band, and the fault lane at the top.
    const plain = renderTimeline({ ops, result, events });
    expect(plain).not.toContain('class="leader');
    expect(plain).not.toContain('leader (as the cluster said');
    expect(plain).toMatch(/<rect class="lane" x="[\d.]+" y="2"/);
  });

  it('is self-contained: no network references, no external scripts or styles', () => {
    const { ops, result, events } = staleRead();
    const html = renderTimeline({ ops, result, events });
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link\b/);
    expect(html).not.toMatch(/@import|url\((?!#)/);
  });

  it('carries a script that parses', () => {
    const { ops, result } = staleRead();
    const html = renderTimeline({ ops, result });
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(() => new Function(script!)).not.toThrow();
  });

  it('draws a small valid history whole', () => {
    const ops = [op(0, 'write', 0, 10, 'ok', 1), op(1, 'read', 5, 12, 'ok', 1)];
    const html = renderTimeline({
      ops,
      result: { valid: true, partitions: [{ key: '', valid: true, operations: 2 }] },
    });
    expect(html).toContain('The whole history');
    expect(html.match(/<g class="op /g)).toHaveLength(2);
    expect(html).not.toContain('left out');
  });

  it('bounds the page of a 100k-op anomaly and says what was left out', () => {
    const n = 100_000;
    const ops: ClientOp[] = [];
    for (let i = 0; i < n; i++) {
      const p = i % 10;
      ops.push(op(p, 'write', i * 10, i * 10 + 15, i % 20 === 7 ? 'info' : 'ok', i, 'k'));
    }
    const stuckAt = 60_000;
    const info: PartitionInfo<unknown, unknown> = {
      operations: ops.map((o, i) => operation(o, i)),
      initialState: 'null',
      longest: [Array.from({ length: stuckAt }, (_, k) => ({ op: k, state: String(k) }))],
      stuck: [stuckAt],
      descriptions: ops.map((_, i) => `write ${i}`),
    };
    const html = renderTimeline({
      ops,
      result: { valid: false, partitions: [{ key: 'k', valid: false, operations: n, info }] },
    });
    expect(html.length).toBeLessThan(1_500_000);
    expect(html).toContain(`write ${stuckAt}`);
    expect(html).toMatch(
      /Showing \d+ of the 100000 ops of key &quot;k&quot;: left out \d+ earlier and \d+ later ops/,
    );
    // A valid history that large is drawn whole in the zoomable view only, also bounded.
    const valid = renderTimeline({
      ops,
      result: { valid: true, partitions: [{ key: 'k', valid: true, operations: n }] },
    });
    expect(valid.length).toBeLessThan(1_500_000);
    expect(valid).toContain('Every one of the 100000 ops');
    expect(valid).not.toContain('<g class="op ');
  });

  it('lists failing partitions beyond the ones it draws', () => {
    const ops = ['a', 'b', 'c', 'd'].map((k, i) => op(i, 'write', i, i + 1, 'ok', 1, k));
    const html = renderTimeline(
      {
        ops,
        result: {
          valid: false,
          partitions: ops.map((o) => ({ key: String(o.key), valid: false, operations: 1 })),
        },
      },
      { maxPartitions: 2 },
    );
    expect(html).toContain(
      '2 more partitions are not linearizable or undecided and not drawn: &quot;c&quot;, &quot;d&quot;',
    );
    expect(html).toContain('key &quot;a&quot;: not linearizable');
  });
});

describe('nemesisIntervals', () => {
  it('pairs the usual fault shapes and keeps unhealed faults open', () => {
    const events = [
      ev(1, 'nemesis', 'info', 'partition-start', { n1: ['n2'] }),
      ev(2, 'nemesis', 'info', 'kill', ['n3']),
      ev(3, 'nemesis', 'info', 'partition-stop'),
      ev(4, 'nemesis', 'info', 'start', ['n3']),
      ev(5, 'nemesis', 'info', 'pause'),
      ev(6, 'nemesis', 'info', 'clock-bump'),
      ev(7, 0, 'invoke', 'read'),
      ev(8, 'nemesis', 'info', 'clock-offset', { n2: -5000 }),
      ev(9, 'nemesis', 'info', 'clock-reset', ['n2']),
    ];
    const out = nemesisIntervals(events);
    expect(out.map((n) => [n.kind, n.start, n.end, n.interval])).toEqual([
      ['partition', 1, 3, true],
      ['kill', 2, 4, true],
      ['pause', 5, Number.POSITIVE_INFINITY, true],
      ['clock-bump', 6, 6, false],
      ['clock', 8, 9, true],
    ]);
  });

  it('uses completions when the nemesis recorded invoke/completion pairs', () => {
    const events = [
      ev(1, 'nemesis', 'invoke', 'start'),
      ev(2, 'nemesis', 'info', 'start'),
      ev(5, 'nemesis', 'invoke', 'stop'),
      ev(6, 'nemesis', 'info', 'stop'),
    ];
    expect(nemesisIntervals(events).map((n) => [n.start, n.end])).toEqual([[2, 6]]);
  });
});
