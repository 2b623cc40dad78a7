import type { ClientOp } from '../checker/history/client-op.js';
import type { HistoryEvent } from '../checker/history/event.js';
import type { FaultStyle } from '../checker/timeline/index.js';
import { HEAL_ALL_KIND, leaderEvents, nemesisIntervals } from '../checker/timeline/index.js';
import { BUILTIN_FAULT_STYLES } from '../nemesis/kinds/index.js';

/**
 * `latency.svg`, `latency-percentiles.svg` and `rate.svg` for a results folder: plain SVG, no dependencies. Latency is a
 * scatter of the completed ops (x: invoke time, y: latency on a log scale), rate is completions
 * per second by outcome; both shade the nemesis intervals, as Jepsen's plots do, and mark the
 * final heal, and, when the history has leader events (harness/run/observe-leader.ts), each
 * change of leader as a thin vertical mark. Each fault kind is shaded in its kind's colour (`faultStyles`: the nemesis's kinds,
 * faultline's own by default; grey for a kind it does not list). Their size does not grow with the history: the scatter is binned into pixel cells
 * and the rate into at most one bucket per two pixels.
 */

const W = 900;
const H = 320;
const M = { left: 60, right: 110, top: 20, bottom: 40 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
const OUTCOMES = ['ok', 'fail', 'info'] as const;
type Outcome = (typeof OUTCOMES)[number];
const COLORS: Record<Outcome, string> = { ok: '#2a9d55', fail: '#d1495b', info: '#e0a100' };
const OTHER_FAULT_FILL = '#cccccc';
const HEAL_STROKE = '#333333';
const LEADER_STROKE = '#6a1b9a';
/**
 * Side of a latency cell in pixels. A dot is 3.2 px across, so finer cells would only stack dots
 * on one another. The plot area then holds 183 x 65 cells: at most ~12k dots per outcome.
 */
const CELL = 4;
/** Rate buckets: at most one per two pixels of width. */
const MAX_BUCKETS = Math.floor(PW / 2);

const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];

/** A line or a set of dots the legend names. */
interface Series {
  label: string;
  colour: string;
}
const outcomeSeries = (outcomes: readonly Outcome[]): Series[] =>
  outcomes.map((o) => ({ label: o, colour: COLORS[o] }));

/**
 * Transparent columns over the plot, one per bucket, each with a tooltip of its figures: the
 * plot answers "what was it here?" on hover when shown inline or as an `<object>`, with no
 * script (the files stay static).
 */
function hoverColumns(
  buckets: number,
  bucketS: number,
  endS: number,
  text: (i: number) => string | undefined,
): string {
  const out: string[] = [];
  const w = (bucketS / endS) * PW;
  const digits = bucketS < 1 ? 2 : 1;
  for (let i = 0; i < buckets; i++) {
    const t = text(i);
    if (t === undefined) continue;
    out.push(
      `<rect x="${(M.left + i * w).toFixed(1)}" width="${w.toFixed(1)}"><title>${esc(`${(i * bucketS).toFixed(digits)}–${((i + 1) * bucketS).toFixed(digits)} s: ${t}`)}</title></rect>`,
    );
  }
  // Each column's height comes from the style (an SVG 2 geometry property), saving bytes per rect.
  return (
    `<style>.hover rect{height:${PH}px}</style>` +
    `<g class="hover" fill-opacity="0" transform="translate(0 ${M.top})">${out.join('')}</g>`
  );
}

const isOutcome = (t: string): t is Outcome => t === 'ok' || t === 'fail' || t === 'info';
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function frame(
  title: string,
  endS: number,
  body: string,
  yAxis: string,
  events: readonly HistoryEvent[],
  series: readonly Series[],
  faultStyles: readonly FaultStyle[],
): string {
  const style = new Map(faultStyles.map((s) => [s.kind, s]));
  const fillOf = (kind: string) => style.get(kind)?.colour ?? OTHER_FAULT_FILL;
  const x = (s: number) => M.left + (endS > 0 ? (Math.min(s, endS) / endS) * PW : 0);
  const shades: string[] = [];
  const heals: string[] = [];
  const kinds: string[] = []; // fault kinds drawn, in order of first appearance
  for (const iv of nemesisIntervals(events, faultStyles)) {
    if (!iv.interval) continue;
    const x0 = x(iv.start / 1e9);
    if (iv.kind === HEAL_ALL_KIND) {
      heals.push(
        `<line x1="${x0.toFixed(1)}" y1="${M.top}" x2="${x0.toFixed(1)}" y2="${H - M.bottom}" stroke="${HEAL_STROKE}" stroke-width="1.5" stroke-dasharray="4 3"><title>heal</title></line>`,
      );
      continue;
    }
    if (!kinds.includes(iv.kind)) kinds.push(iv.kind);
    const x1 = x(iv.end / 1e9); // an unhealed fault (end Infinity) runs to the right edge
    shades.push(
      `<rect x="${x0.toFixed(1)}" y="${M.top}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${PH}" fill="${esc(fillOf(iv.kind))}" opacity="0.35"><title>${esc(iv.label)}</title></rect>`,
    );
  }
  // Leader changes: every leader event after the first (which says who led to begin with).
  const leaders = leaderEvents(events).slice(1);
  const leaderMarks = leaders.map((e) => {
    const lx = x(e.time / 1e9).toFixed(1);
    const who = typeof e.value === 'string' ? `leader: ${e.value}` : 'no leader';
    return `<line class="leader-change" x1="${lx}" y1="${M.top}" x2="${lx}" y2="${H - M.bottom}" stroke="${LEADER_STROKE}" stroke-width="1.2"><title>${esc(`${who} at ${(e.time / 1e9).toFixed(2)} s`)}</title></line>`;
  });
  const ticks: string[] = [];
  // At most a dozen labels, however long the run.
  const step = TICK_STEPS.find((t) => endS / t <= 12) ?? 3600 * Math.ceil(endS / 3600 / 12);
  for (let s = 0; s <= endS; s += step) {
    ticks.push(
      `<text x="${x(s).toFixed(1)}" y="${H - M.bottom + 16}" font-size="11" text-anchor="middle">${s}</text>`,
    );
  }
  // Only what the plot shows: the outcomes drawn, the fault kinds that happened, the heal.
  const entries: string[] = [];
  const entry = (label: string, swatch: (y: number) => string) => {
    const y = M.top + entries.length * 16;
    entries.push(
      `${swatch(y)}<text x="${W - M.right + 26}" y="${y + 9}" font-size="11">${esc(label)}</text>`,
    );
  };
  const box = (fill: string) => (y: number) =>
    `<rect x="${W - M.right + 12}" y="${y}" width="10" height="10" fill="${fill}"/>`;
  for (const o of series) entry(o.label, box(o.colour));
  for (const k of kinds) entry(style.get(k)?.label ?? k, box(esc(fillOf(k))));
  if (heals.length > 0) {
    entry(
      'heal',
      (y) =>
        `<line x1="${W - M.right + 17}" y1="${y}" x2="${W - M.right + 17}" y2="${y + 10}" stroke="${HEAL_STROKE}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
    );
  }
  if (leaderMarks.length > 0) {
    entry(
      'leader change',
      (y) =>
        `<line x1="${W - M.right + 17}" y1="${y}" x2="${W - M.right + 17}" y2="${y + 10}" stroke="${LEADER_STROKE}" stroke-width="1.2"/>`,
    );
  }
  return (
    // Sized by the page: as wide as its container, the height following the aspect ratio.
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" preserveAspectRatio="xMidYMid meet" font-family="sans-serif">` +
    `<text x="${M.left}" y="14" font-size="13">${esc(title)}</text>${shades.join('')}` +
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#444"/>` +
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#444"/>` +
    `${ticks.join('')}<text x="${M.left + PW / 2}" y="${H - 6}" font-size="11" text-anchor="middle">seconds</text>` +
    `${yAxis}${body}${heals.join('')}${leaderMarks.join('')}<g class="legend">${entries.join('')}</g></svg>\n`
  );
}

function endOf(events: readonly HistoryEvent[]): number {
  return Math.max(1e-9, (events.at(-1)?.time ?? 0) / 1e9);
}

const latencyMs = (o: ClientOp) => Math.max(0.01, ((o.completion?.time ?? o.call) - o.call) / 1e6);

/** The y axis's title, written up its left side. */
const yLabel = (text: string) =>
  `<text x="12" y="${M.top + PH / 2}" font-size="11" transform="rotate(-90 12 ${M.top + PH / 2})">${text}</text>`;

/**
 * A log-scale latency axis from 0.01 ms to the decade above `maxMs`: the y of a latency, and the
 * ticks (one per decade) with the axis's title.
 */
function latencyAxis(maxMs: number, title: string): { y: (ms: number) => number; ticks: string } {
  const decades = Math.ceil(Math.log10(maxMs)) + 2;
  const y = (ms: number) => M.top + PH - ((Math.log10(ms) + 2) / decades) * PH;
  const ticks: string[] = [];
  for (let d = -2; d < decades - 2; d++) {
    const ms = 10 ** d;
    ticks.push(
      `<text x="${M.left - 6}" y="${(y(ms) + 4).toFixed(1)}" font-size="11" text-anchor="end">${ms >= 1 ? ms : ms.toFixed(2)}</text>`,
    );
  }
  return { y, ticks: ticks.join('') + yLabel(title) };
}

export function latencySvg(
  title: string,
  ops: readonly ClientOp[],
  events: readonly HistoryEvent[],
  faultStyles: readonly FaultStyle[] = BUILTIN_FAULT_STYLES,
): string {
  const endS = endOf(events);
  let maxMs = 10;
  for (const o of ops) if (o.completion !== undefined) maxMs = Math.max(maxMs, latencyMs(o));
  const { y, ticks } = latencyAxis(maxMs, 'latency (ms)');
  const xOf = (o: ClientOp) => M.left + (o.call / 1e9 / endS) * PW;

  // Per outcome and cell, the slowest op in it (its latency and x; 0: empty cell). Every op lies
  // in a drawn cell, and the slowest op of all is drawn exactly where it is.
  const cols = Math.ceil(PW / CELL);
  const rows = Math.ceil(PH / CELL);
  const cell = (px: number, origin: number, n: number) =>
    Math.min(n - 1, Math.max(0, Math.floor((px - origin) / CELL)));
  const slowest = new Map<Outcome, { ms: Float64Array; x: Float64Array }>();
  let top: ClientOp | undefined;
  let topMs = 0;
  for (const o of ops) {
    const type = o.completion?.type;
    if (type === undefined || !isOutcome(type)) continue;
    const ms = latencyMs(o);
    const cx = xOf(o);
    const i = cell(y(ms), M.top, rows) * cols + cell(cx, M.left, cols);
    let grid = slowest.get(type);
    if (grid === undefined) {
      grid = { ms: new Float64Array(cols * rows), x: new Float64Array(cols * rows) };
      slowest.set(type, grid);
    }
    if (ms > grid.ms[i]!) {
      grid.ms[i] = ms;
      grid.x[i] = cx;
    }
    if (ms > topMs) {
      top = o;
      topMs = ms;
    }
  }
  const outcomes = OUTCOMES.filter((o) => slowest.has(o));
  const dots: string[] = [];
  for (const o of outcomes) {
    const grid = slowest.get(o)!;
    dots.push(`<g fill="${COLORS[o]}">`);
    for (let i = 0; i < grid.ms.length; i++) {
      const ms = grid.ms[i]!;
      if (ms === 0) continue;
      dots.push(`<circle cx="${grid.x[i]!.toFixed(1)}" cy="${y(ms).toFixed(1)}" r="1.6"/>`);
    }
    dots.push('</g>');
  }
  if (top !== undefined) {
    // A ring around the slowest op, so the extreme stays findable among the dots.
    dots.push(
      `<circle class="slowest" cx="${xOf(top).toFixed(1)}" cy="${y(topMs).toFixed(1)}" r="4" fill="none" stroke="#222"><title>slowest: ${topMs.toFixed(1)} ms, ${esc(top.f)} invoked at ${(top.call / 1e9).toFixed(1)} s</title></circle>`,
    );
  }
  return frame(
    `${title}: latency`,
    endS,
    dots.join(''),
    ticks,
    events,
    outcomeSeries(outcomes),
    faultStyles,
  );
}

export function rateSvg(
  title: string,
  ops: readonly ClientOp[],
  events: readonly HistoryEvent[],
  faultStyles: readonly FaultStyle[] = BUILTIN_FAULT_STYLES,
): string {
  const endS = endOf(events);
  // Equal buckets over the whole run (no partial last one to dip at the edge), about a second
  // each until there would be more than MAX_BUCKETS.
  const buckets = Math.max(1, Math.min(MAX_BUCKETS, Math.ceil(endS)));
  const bucketS = endS / buckets;
  const counts = new Map<Outcome, Float64Array>();
  for (const o of ops) {
    const c = o.completion;
    if (c === undefined || !isOutcome(c.type)) continue;
    let series = counts.get(c.type);
    if (series === undefined) {
      series = new Float64Array(buckets);
      counts.set(c.type, series);
    }
    series[Math.min(buckets - 1, Math.floor(c.time / 1e9 / bucketS))]!++;
  }
  const outcomes = OUTCOMES.filter((o) => counts.has(o));
  let maxRate = 1;
  for (const series of counts.values()) {
    for (const n of series) maxRate = Math.max(maxRate, n / bucketS);
  }
  const y = (r: number) => M.top + PH - (r / maxRate) * PH;
  const lines = outcomes
    .map((k) => {
      const pts: string[] = [];
      counts.get(k)!.forEach((n, i) => {
        const mid = (i + 0.5) * bucketS;
        pts.push(`${(M.left + (mid / endS) * PW).toFixed(1)},${y(n / bucketS).toFixed(1)}`);
      });
      return `<polyline fill="none" stroke="${COLORS[k]}" stroke-width="1.5" points="${pts.join(' ')}"/>`;
    })
    .join('');
  const hover = hoverColumns(buckets, bucketS, endS, (i) =>
    outcomes.map((k) => `${k} ${Math.round(counts.get(k)![i]! / bucketS)}/s`).join(' · '),
  );
  const yTicks = [0, 0.5, 1]
    .map(
      (f) =>
        `<text x="${M.left - 6}" y="${(y(f * maxRate) + 4).toFixed(1)}" font-size="11" text-anchor="end">${Math.round(f * maxRate)}</text>`,
    )
    .join('');
  const unit = bucketS > 1.5 ? `ops/s (mean over ${bucketS.toFixed(1)} s)` : 'ops/s';

  return frame(
    `${title}: throughput`,
    endS,
    lines + hover,
    yTicks + yLabel(unit),
    events,
    outcomeSeries(outcomes),
    faultStyles,
  );
}

/** Percentile lines of the latency plot over time, and their colours. */
const PERCENTILES = [
  { q: 0.5, label: 'p50', colour: '#2a9d55' },
  { q: 0.9, label: 'p90', colour: '#3f78c0' },
  { q: 0.99, label: 'p99', colour: '#d1495b' },
  { q: 1, label: 'max', colour: '#555555' },
] as const;

/**
 * Latency percentiles over time: p50, p90, p99 and the maximum of the ok ops invoked in each
 * bucket (about a second, at most one per two pixels; 20 in a run under 20 s), on a log scale; an empty bucket breaks
 * the lines, so a stretch with no ok op shows as a gap.
 */
export function percentilesSvg(
  title: string,
  ops: readonly ClientOp[],
  events: readonly HistoryEvent[],
  faultStyles: readonly FaultStyle[] = BUILTIN_FAULT_STYLES,
): string {
  const endS = endOf(events);
  // About a second each; a short run still gets 20 buckets.
  const buckets = endS < 20 ? 20 : Math.min(MAX_BUCKETS, Math.ceil(endS));
  const bucketS = endS / buckets;
  const per: number[][] = Array.from({ length: buckets }, () => []);
  let maxMs = 10;
  for (const o of ops) {
    if (o.status !== 'ok' || o.completion === undefined) continue;
    const ms = latencyMs(o);
    maxMs = Math.max(maxMs, ms);
    per[Math.min(buckets - 1, Math.max(0, Math.floor(o.call / 1e9 / bucketS)))]!.push(ms);
  }
  const unit =
    bucketS > 1.5 ? `latency (ms, ok ops per ${bucketS.toFixed(1)} s)` : 'latency (ms, ok ops)';
  const { y, ticks } = latencyAxis(maxMs, unit);
  const sorted = per.map((xs) => Float64Array.from(xs).sort());
  /** The q-th quantile of a sorted bucket (nearest rank). */
  const at = (xs: Float64Array, q: number) =>
    xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]!;
  const lines: string[] = [];
  const drawn = PERCENTILES.filter(() => sorted.some((xs) => xs.length > 0));
  // The maximum first (dashed), so that p99, which equals it in a sparse bucket, is seen on top.
  for (const p of [...drawn].reverse()) {
    const runs: string[][] = [[]];
    sorted.forEach((xs, i) => {
      if (xs.length === 0) {
        if (runs.at(-1)!.length > 0) runs.push([]);
        return;
      }
      const v = at(xs, p.q);
      const mid = (i + 0.5) * bucketS;
      runs.at(-1)!.push(`${(M.left + (mid / endS) * PW).toFixed(1)},${y(v).toFixed(1)}`);
    });
    for (const pts of runs) {
      if (pts.length === 0) continue;
      // A lone point (a bucket between two empty ones) shows as a dot.
      if (pts.length === 1) {
        const [cx, cy] = pts[0]!.split(',');
        lines.push(
          `<circle class="q-${p.label}" cx="${cx}" cy="${cy}" r="2.5" fill="${p.colour}"><title>${p.label}</title></circle>`,
        );
        continue;
      }
      const points = pts;
      lines.push(
        `<polyline class="q-${p.label}" fill="none" stroke="${p.colour}" stroke-width="1.5"${p.q === 1 ? ' stroke-dasharray="4 2"' : ''} points="${points.join(' ')}"><title>${p.label}</title></polyline>`,
      );
    }
  }
  const hover = hoverColumns(buckets, bucketS, endS, (i) => {
    const xs = sorted[i]!;
    if (xs.length === 0) return undefined;
    const figures = PERCENTILES.map((p) => `${p.label} ${at(xs, p.q).toFixed(1)} ms`).join(' · ');
    return `${figures} (${xs.length} ok op${xs.length === 1 ? '' : 's'})`;
  });
  return frame(
    `${title}: latency percentiles`,
    endS,
    lines.join('') + hover,
    ticks,
    events,
    drawn.map((p) => ({ label: p.label, colour: p.colour })),
    faultStyles,
  );
}
