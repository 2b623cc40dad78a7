import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import { nemesisIntervals } from '../checker/timeline/index.js';

/**
 * `latency.svg` and `rate.svg` for a results folder: plain SVG, no dependencies. Latency is a
 * scatter of each completed op (x: invoke time, y: latency on a log scale), rate is completions
 * per second by outcome; both shade the nemesis intervals, as Jepsen's plots do.
 */

const W = 900;
const H = 320;
const M = { left: 60, right: 110, top: 20, bottom: 40 };
const COLORS: Record<string, string> = { ok: '#2a9d55', fail: '#d1495b', info: '#e0a100' };
const FAULT_FILL: Record<string, string> = {
  partition: '#9bb8ff',
  kill: '#ffb3b3',
  pause: '#d9c2ff',
};

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function frame(
  title: string,
  endS: number,
  body: string,
  yAxis: string,
  events: readonly HistoryEvent[],
): string {
  const pw = W - M.left - M.right;
  const x = (s: number) => M.left + (endS > 0 ? (s / endS) * pw : 0);
  const shades = nemesisIntervals(events)
    .filter((iv) => iv.interval)
    .map((iv) => {
      const x0 = x(iv.start / 1e9);
      const x1 = x(Math.min(iv.end, endS * 1e9) / 1e9);
      const fill = FAULT_FILL[iv.kind] ?? '#dddddd';
      return `<rect x="${x0.toFixed(1)}" y="${M.top}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${H - M.top - M.bottom}" fill="${fill}" opacity="0.35"><title>${esc(iv.label)}</title></rect>`;
    })
    .join('');
  const ticks: string[] = [];
  const step = endS > 120 ? 30 : endS > 30 ? 10 : endS > 10 ? 2 : 1;
  for (let s = 0; s <= endS; s += step) {
    ticks.push(
      `<text x="${x(s).toFixed(1)}" y="${H - M.bottom + 16}" font-size="11" text-anchor="middle">${s}</text>`,
    );
  }
  const legend = [...Object.entries(COLORS), ...Object.entries(FAULT_FILL)]
    .map(
      ([k, c], i) =>
        `<rect x="${W - M.right + 12}" y="${M.top + i * 16}" width="10" height="10" fill="${c}"/><text x="${W - M.right + 26}" y="${M.top + i * 16 + 9}" font-size="11">${k}</text>`,
    )
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">` +
    `<text x="${M.left}" y="14" font-size="13">${esc(title)}</text>${shades}` +
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#444"/>` +
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#444"/>` +
    `${ticks.join('')}<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">seconds</text>` +
    `${yAxis}${body}${legend}</svg>\n`
  );
}

function endOf(events: readonly HistoryEvent[]): number {
  return Math.max(1e-9, (events.at(-1)?.time ?? 0) / 1e9);
}

export function latencySvg(
  title: string,
  ops: readonly ClientOp[],
  events: readonly HistoryEvent[],
): string {
  const endS = endOf(events);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const done = ops.filter((o) => o.completion !== undefined);
  const lat = (o: ClientOp) => Math.max(0.01, ((o.completion?.time ?? o.call) - o.call) / 1e6);
  const maxMs = Math.max(10, ...done.map(lat));
  const decades = Math.ceil(Math.log10(maxMs)) + 2; // from 0.01 ms
  const y = (ms: number) => M.top + ph - ((Math.log10(ms) + 2) / decades) * ph;
  // At most ~20k points: an evenly spaced sample beyond that.
  const every = Math.max(1, Math.ceil(done.length / 20_000));
  const dots: string[] = [];
  for (let i = 0; i < done.length; i += every) {
    const o = done[i]!;
    const cx = M.left + (o.call / 1e9 / endS) * pw;
    const status = o.completion?.type ?? 'info';
    dots.push(
      `<circle cx="${cx.toFixed(1)}" cy="${y(lat(o)).toFixed(1)}" r="1.6" fill="${COLORS[status] ?? '#888'}"/>`,
    );
  }
  const yTicks: string[] = [];
  for (let d = -2; d < decades - 2; d++) {
    const ms = 10 ** d;
    yTicks.push(
      `<text x="${M.left - 6}" y="${(y(ms) + 4).toFixed(1)}" font-size="11" text-anchor="end">${ms >= 1 ? ms : ms.toFixed(2)}</text>`,
    );
  }
  yTicks.push(
    `<text x="12" y="${M.top + ph / 2}" font-size="11" transform="rotate(-90 12 ${M.top + ph / 2})">latency (ms)</text>`,
  );
  return frame(`${title}: latency`, endS, dots.join(''), yTicks.join(''), events);
}

export function rateSvg(
  title: string,
  ops: readonly ClientOp[],
  events: readonly HistoryEvent[],
): string {
  const endS = endOf(events);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const buckets = Math.max(1, Math.ceil(endS));
  const series: Record<string, number[]> = { ok: [], fail: [], info: [] };
  for (const k of Object.keys(series)) series[k] = new Array<number>(buckets).fill(0);
  for (const o of ops) {
    const c = o.completion;
    if (c === undefined || !(c.type in series)) continue;
    const b = Math.min(buckets - 1, Math.floor(c.time / 1e9));
    series[c.type]![b]!++;
  }
  const maxRate = Math.max(1, ...Object.values(series).flat());
  const y = (r: number) => M.top + ph - (r / maxRate) * ph;
  const lines = Object.entries(series)
    .map(([k, v]) => {
      const pts = v.map(
        (r, i) => `${(M.left + ((i + 0.5) / endS) * pw).toFixed(1)},${y(r).toFixed(1)}`,
      );
      return `<polyline fill="none" stroke="${COLORS[k]}" stroke-width="1.5" points="${pts.join(' ')}"/>`;
    })
    .join('');
  const yTicks = [0, 0.5, 1]
    .map(
      (f) =>
        `<text x="${M.left - 6}" y="${(y(f * maxRate) + 4).toFixed(1)}" font-size="11" text-anchor="end">${Math.round(f * maxRate)}</text>`,
    )
    .join('');
  const label = `<text x="12" y="${M.top + ph / 2}" font-size="11" transform="rotate(-90 12 ${M.top + ph / 2})">ops/s</text>`;
  return frame(`${title}: throughput`, endS, lines, yTicks + label, events);
}
