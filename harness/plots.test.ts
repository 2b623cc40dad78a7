import { beforeAll, describe, expect, it } from 'vitest';
import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { prng } from '../checker/history/generate.js';
import { latencySvg, percentilesSvg, rateSvg } from './plots.js';

const S = 1e9;
const nemesis = (timeS: number, f: string): HistoryEvent => ({
  index: 0,
  time: timeS * S,
  process: 'nemesis',
  type: 'info',
  f,
});

function op(call: number, ms: number, type: 'ok' | 'fail' | 'info', f = 'read'): ClientOp {
  const time = call + ms * 1e6;
  return {
    process: 0,
    f,
    status: type,
    invoke: { index: 0, time: call, process: 0, type: 'invoke', f },
    completion: { index: 0, time, process: 0, type, f },
    call,
    return: type === 'info' ? Number.POSITIVE_INFINITY : time,
  };
}

/** Tags balance (self-closing ones aside), and text holds no raw `<` or bare `&`. */
function wellFormed(svg: string): boolean {
  const stack: string[] = [];
  for (const [, close, name, self] of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    if (self) continue;
    if (!close) stack.push(name!);
    else if (stack.pop() !== name) return false;
  }
  const text = svg.replace(/<[^>]*>/g, '');
  return (
    stack.length === 0 && svg.startsWith('<svg ') && !text.includes('<') && !/&(?!#\d+;)/.test(text)
  );
}

function legendOf(svg: string): string[] {
  const legend = /<g class="legend">(.*?)<\/g>/.exec(svg);
  if (legend === null) throw new Error('no legend group');
  return [...legend[1]!.matchAll(/<text[^>]*>(.*?)<\/text>/g)].map((m) => m[1]!);
}
const attr = (el: string, name: string) => Number(new RegExp(` ${name}="([^"]+)"`).exec(el)?.[1]);

/**
 * A million ops, one invoked every ms for 1000 s, latencies log-uniform from 0.05 to 500 ms
 * (90 % ok, 7 % fail, 3 % info), and one fail far slower than the rest (5 s, invoked at 500 s).
 * A partition from 100 to 200 s, a kill from 300 to 310 s, the heal at 995 s.
 */
function millionOps(): { ops: ClientOp[]; events: HistoryEvent[] } {
  const rand = prng(7);
  const ops: ClientOp[] = new Array(1_000_000);
  for (let i = 0; i < ops.length; i++) {
    const r = rand();
    const type = r < 0.9 ? 'ok' : r < 0.97 ? 'fail' : 'info';
    ops[i] = op(i * 1e6, 10 ** (rand() * 4 - 1.3), type);
  }
  ops[500_000] = op(500 * S, 5000, 'fail');
  const events = [
    nemesis(100, 'partition-start'),
    nemesis(200, 'partition-stop'),
    nemesis(300, 'kill'),
    nemesis(310, 'start'),
    nemesis(995, 'heal-all-start'),
    nemesis(996, 'heal-all-stop'),
    { index: 0, time: 1001 * S, process: 0, type: 'ok', f: 'read' } as HistoryEvent,
  ];
  return { ops, events };
}

describe('latency and rate plots of a 1M-op history', () => {
  let latency = '';
  let rate = '';
  beforeAll(() => {
    const { ops, events } = millionOps();
    latency = latencySvg('big', ops, events);
    rate = rateSvg('big', ops, events);
  });

  it('stay within a size that does not grow with the history', () => {
    // Latency: at most one dot per outcome per 4 px cell of the 730 x 260 px plot area
    // (183 x 65 cells, 3 outcomes, ~40 bytes a dot): 1.5 MB at worst, whatever the op count.
    const dots = latency.match(/<circle /g)?.length ?? 0;
    expect(dots).toBeLessThanOrEqual(3 * 183 * 65 + 1);
    expect(latency.length).toBeLessThan(1_500_000);
    // Rate: at most 365 buckets (one per 2 px) per outcome, ~12 bytes a point.
    for (const [, points] of rate.matchAll(/points="([^"]*)"/g)) {
      expect(points!.split(' ').length).toBeLessThanOrEqual(365);
    }
    // Plus a hover column per bucket with its figures (~80 bytes each).
    const columns = [...rate.matchAll(/<rect x="[\d.]+" width="[\d.]+"><title>([^<]*)</g)];
    expect(columns).toHaveLength(365);
    expect(rate.length).toBeLessThan(64_000);
    expect(rate).toContain('ops/s (mean over 2.7 s)'); // 1001 s in 365 buckets
  });

  it("tell each bucket's figures on hover, in the order of the legend", () => {
    const columns = [...rate.matchAll(/<rect x="([\d.]+)" width="([\d.]+)"><title>([^<]*)</g)];
    // Side by side across the plot area (60 to 790 px), each naming its time span and rates.
    expect(Number(columns[0]![1])).toBeCloseTo(60, 0);
    const last = columns.at(-1)!;
    expect(Number(last[1]) + Number(last[2])).toBeCloseTo(790, 0);
    for (const [, , , text] of columns) {
      expect(text).toMatch(/^[\d.]+–[\d.]+ s: ok \d+\/s( · fail \d+\/s)?( · info \d+\/s)?$/);
    }
  });

  it('are well-formed XML', () => {
    expect(wellFormed(latency)).toBe(true);
    expect(wellFormed(rate)).toBe(true);
  });

  it('draw the slowest op where it is, above every other dot', () => {
    const ring = /<circle class="slowest"[^>]*>/.exec(latency)?.[0] ?? '';
    expect(latency).toContain('<title>slowest: 5000.0 ms, read invoked at 500.0 s</title>');
    const [cx, cy] = [attr(ring, 'cx'), attr(ring, 'cy')];
    // x: 500 s of 1001 s across the 730 px plot area from x = 60.
    expect(cx).toBeCloseTo(60 + (500 / 1001) * 730, 0);
    const fails = /<g fill="#d1495b">(.*?)<\/g>/.exec(latency)?.[1] ?? '';
    expect(fails).toContain(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="1.6"/>`);
    let highest = Number.POSITIVE_INFINITY; // no spread: tens of thousands of dots
    for (const m of latency.matchAll(/ cy="([^"]+)" r="1.6"/g)) {
      highest = Math.min(highest, Number(m[1]));
    }
    expect(highest).toBe(cy);
  });

  it('shade each fault over its interval and mark the heal', () => {
    const shade = (label: string) =>
      new RegExp(`<rect [^>]*><title>${label}</title></rect>`).exec(latency)?.[0] ?? '';
    const partition = shade('partition-start');
    const kill = shade('kill');
    expect(partition).toContain('fill="#9bb8ff"');
    // 100 s of partition, 10 s of kill.
    expect(attr(partition, 'width') / attr(kill, 'width')).toBeCloseTo(10, 1);
    const heal = /<line [^>]*><title>heal<\/title><\/line>/.exec(rate)?.[0] ?? '';
    expect(attr(heal, 'x1')).toBeCloseTo(60 + (995 / 1001) * 730, 0);
  });

  it('list in the legend what happened, and only that', () => {
    expect(legendOf(latency)).toEqual(['ok', 'fail', 'info', 'partition', 'kill', 'heal']);
    expect(legendOf(rate)).toEqual(['ok', 'fail', 'info', 'partition', 'kill', 'heal']);
  });
});

describe('latency cells', () => {
  it('keep the slowest op of each cell: a faster op beside it changes nothing', () => {
    const end = { index: 0, time: 4 * S, process: 0, type: 'ok', f: 'read' } as HistoryEvent;
    // 190 and 200 ms at the same time share a 4 px cell (the scale tops out at 1000 ms).
    const slow = [op(1 * S, 200, 'ok'), op(3 * S, 1000, 'ok')];
    const both = [op(1 * S, 190, 'ok'), ...slow];
    const dots = (svg: string) => svg.match(/<circle cx="[^"]+" cy="[^"]+" r="1.6"\/>/g);
    expect(dots(latencySvg('t', both, [end]))).toHaveLength(2);
    expect(dots(latencySvg('t', both, [end]))).toEqual(dots(latencySvg('t', slow, [end])));
  });
});

describe('plot legends', () => {
  it('hold only the outcomes and fault kinds present (names escaped)', () => {
    const ops = [op(1 * S, 2, 'ok'), op(2 * S, 3, 'ok')];
    const events = [
      nemesis(1, 'pause'),
      nemesis(2, 'resume'),
      nemesis(3, 'a<b>&c-start'),
      { index: 0, time: 4 * S, process: 0, type: 'ok', f: 'read' } as HistoryEvent,
    ];
    for (const svg of [latencySvg('t', ops, events), rateSvg('t', ops, events)]) {
      expect(legendOf(svg)).toEqual(['ok', 'pause', 'a&#60;b&#62;&#38;c']);
      expect(wellFormed(svg)).toBe(true);
    }
  });

  it("shade and name each kind as the nemesis's styles say; grey for a kind they omit", () => {
    const ops = [op(1 * S, 2, 'ok')];
    const events = [
      nemesis(1, 'wipe-disk'),
      nemesis(2, 'restore-disk'),
      nemesis(3, 'pause'),
      nemesis(4, 'resume'),
      { index: 0, time: 5 * S, process: 0, type: 'ok', f: 'read' } as HistoryEvent,
    ];
    const styles = [
      {
        kind: 'wipe',
        open: 'wipe-disk',
        close: 'restore-disk',
        label: 'disk wiped',
        colour: '#010203',
      },
    ];
    for (const svg of [latencySvg('t', ops, events, styles), rateSvg('t', ops, events, styles)]) {
      expect(legendOf(svg)).toEqual(['ok', 'disk wiped', 'pause']);
      expect(svg).toMatch(/fill="#010203" opacity="0.35"><title>wipe-disk<\/title>/);
      expect(svg).toMatch(/fill="#cccccc" opacity="0.35"><title>pause<\/title>/);
    }
  });

  it('mark each change of leader the cluster reported, with a legend entry, only when there is one', () => {
    const ops = [op(1 * S, 2, 'ok')];
    const leader = (timeS: number, value: string | null): HistoryEvent => ({
      index: 0,
      time: timeS * S,
      process: 'observer',
      type: 'info',
      f: 'leader',
      value,
    });
    const end = { index: 0, time: 10 * S, process: 0, type: 'ok', f: 'read' } as HistoryEvent;
    // The first leader event says who led from the start: not a change.
    const events = [leader(0.5, 'n1'), leader(3, null), leader(3.5, 'n2'), end];
    for (const svg of [latencySvg('t', ops, events), rateSvg('t', ops, events)]) {
      expect(legendOf(svg)).toEqual(['ok', 'leader change']);
      const marks = [
        ...svg.matchAll(/<line class="leader-change" x1="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g),
      ];
      // x = 60 + t / 10 s × 730 px
      expect(marks.map((m) => [m[1], m[2]])).toEqual([
        ['279.0', 'no leader at 3.00 s'],
        ['315.5', 'leader: n2 at 3.50 s'],
      ]);
      expect(wellFormed(svg)).toBe(true);
    }
    for (const svg of [latencySvg('t', ops, [leader(0.5, 'n1'), end])]) {
      expect(legendOf(svg)).toEqual(['ok']);
      expect(svg).not.toContain('leader-change');
    }
  });

  it('draw an empty history', () => {
    for (const svg of [latencySvg('t', [], []), rateSvg('t', [], [])]) {
      expect(legendOf(svg)).toEqual([]);
      expect(wellFormed(svg)).toBe(true);
    }
  });
});

describe('latency percentiles over time', () => {
  it('draw p50, p90, p99 and max of the ok ops over time, a gap where none completed, sized to the page', () => {
    // Seconds 0-2: ops of 1..100 ms; seconds 2-3: only a failure; seconds 3-5: 10 ms each.
    const ops: ClientOp[] = [];
    for (let i = 0; i < 200; i++) ops.push(op(i * 1e7, (i % 100) + 1, 'ok'));
    ops.push(op(2.5 * S, 5, 'fail'));
    for (let i = 0; i < 20; i++) ops.push(op(3 * S + i * 1e8, 10, 'ok'));
    const events = [nemesis(1.2, 'kill'), nemesis(1.8, 'start'), nemesis(5, 'x')];
    const svg = percentilesSvg('t', ops, events);
    expect(wellFormed(svg)).toBe(true);
    expect(svg).toMatch(/^<svg [^>]*viewBox="0 0 900 320" width="100%"/);
    expect(legendOf(svg)).toEqual(['p50', 'p90', 'p99', 'max', 'kill']);
    const runs = (q: string) =>
      [...svg.matchAll(new RegExp(`class="q-${q}"[^>]*points="([^"]+)"`, 'g'))].map((m) =>
        m[1]!.split(' ').map((p) => Number(p.split(',')[1])),
      );
    // Each line in two runs, broken where no op completed ok (20 buckets of 0.25 s).
    for (const q of ['p50', 'p90', 'p99', 'max']) {
      expect(runs(q).map((r) => r.length)).toEqual([8, 8]);
    }
    // Slow tails above the median (a smaller y) before the gap; flat 10 ms after it.
    for (const [k, y] of runs('p99')[0]!.entries()) expect(y).toBeLessThan(runs('p50')[0]![k]!);
    expect(new Set([...runs('p50')[1]!, ...runs('max')[1]!]).size).toBe(1);
    // Hover: a column per bucket that has ok ops, with its four figures and count.
    const tips = [...svg.matchAll(/<rect x="[\d.]+" width="[\d.]+"><title>([^<]*)</g)].map(
      (m) => m[1]!,
    );
    expect(tips).toHaveLength(16);
    expect(tips.at(-1)).toBe(
      '4.75–5.00 s: p50 10.0 ms · p90 10.0 ms · p99 10.0 ms · max 10.0 ms (2 ok ops)',
    );
  });

  it('draw a bucket between two empty ones as a dot per percentile', () => {
    // 20 buckets of 0.25 s: ok ops in the first two, one alone in the 10th, none after.
    const ops = [op(0.1 * S, 3, 'ok'), op(0.3 * S, 4, 'ok'), op(2.3 * S, 7, 'ok')];
    const svg = percentilesSvg('t', ops, [nemesis(5, 'x')]);
    expect(wellFormed(svg)).toBe(true);
    for (const q of ['p50', 'p90', 'p99', 'max']) {
      const dots = [...svg.matchAll(new RegExp(`<circle class="q-${q}" cx="([\\d.]+)"`, 'g'))];
      expect(dots.map((m) => Number(m[1]))).toHaveLength(1);
      expect(svg.match(new RegExp(`<polyline class="q-${q}"`, 'g'))).toHaveLength(1);
    }
  });
});
