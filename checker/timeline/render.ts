import type { ClientOp } from '../history/client-op.js';
import type { FaultStyle } from './fault-events.js';
import { HEAL_ALL_KIND } from './fault-events.js';
import type { LeaderSpan } from './leader.js';
import { leaderSpans } from './leader.js';
import type { NemesisInterval } from './nemesis.js';
import { nemesisIntervals } from './nemesis.js';
import type { TimelineInput, TimelineOptions } from './types.js';
import type { View, ViewOp } from './view.js';
import { anomalyView, compact, wholeView } from './view.js';
import { wholeRunData } from './whole-run.js';
import { WHOLE_RUN_SCRIPT, WHOLE_RUN_STYLE, wholeRunSection } from './whole-run-page.js';

const DEFAULT_MAX_OPS = 300;
const DEFAULT_MAX_PARTITIONS = 3;

// Geometry of one drawing (px).
const WIDTH = 1320;
const GUTTER = 84;
const RIGHT = 24;
const ROW = 36;
const BAR = 18;
const LANE = 16;
const AXIS = 34;
/** Height of the leader band above the fault lanes, when the history has leader events. */
const LEADER_BAND = 18;
/** A colour per leading node (by name, in sorted order); grey for "no leader". */
const LEADER_COLOURS = [
  '#3949ab',
  '#00897b',
  '#ef6c00',
  '#6d4c41',
  '#d81b60',
  '#7cb342',
  '#546e7a',
];
const NO_LEADER = '#bdbdbd';
const CHAR = 6.1; // average width of a 10px sans-serif character, to fit labels into bars
/** Vertical room of one lane of order labels; a row grows by one per extra lane it needs. */
const LABEL_LANE = 13;
/** Most lanes of order labels a row may take; a label that fits none is left out (its op's tooltip still gives its place). */
const MAX_LABEL_LANES = 4;

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const fmt = (n: number): string => (Math.round(n * 10) / 10).toString();

/** Formats a time (ns, or a plain event count when the history carries no clock). */
function timeText(t: number, unit: 'ns' | 'order'): string {
  if (!Number.isFinite(t)) return '∞';
  if (unit === 'order') return String(Math.round(t));
  const a = Math.abs(t);
  if (a >= 1e9) return `${+(t / 1e9).toFixed(3)} s`;
  if (a >= 1e6) return `${+(t / 1e6).toFixed(3)} ms`;
  if (a >= 1e3) return `${+(t / 1e3).toFixed(1)} µs`;
  return `${t} ns`;
}

/** Axis ticks: a 1/2/5 × 10^k step giving about `count` ticks. */
function ticks(from: number, to: number, count: number): number[] {
  const raw = (to - from) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

function processOrder(a: ClientOp['process'], b: ClientOp['process']): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a.localeCompare(b);
}

function barClass(op: ClientOp, v: ViewOp): string {
  const cls = [`op ${op.status}`];
  if (v.stuck) cls.push('stuck');
  if (v.order !== undefined) cls.push('lin');
  return cls.join(' ');
}

function tooltip(op: ClientOp, v: ViewOp, unit: 'ns' | 'order'): string {
  const lines = [
    v.description,
    `process ${String(op.process)}${(op.completion?.node ?? op.invoke.node) ? `, node ${op.completion?.node ?? op.invoke.node}` : ''}${op.key !== undefined ? `, key ${String(op.key)}` : ''}`,
    `${op.status}: invoked ${timeText(op.call, unit)}, ${Number.isFinite(op.return) ? `returned ${timeText(op.return, unit)}` : op.status === 'info' ? `outcome unknown (info at ${timeText(op.completion?.time ?? op.call, unit)})` : 'never returned'}`,
    `history index ${op.invoke.index}${op.completion ? `–${op.completion.index}` : ''}`,
  ];
  if (op.completion?.error !== undefined) lines.push(`error ${compact(op.completion.error)}`);
  if (v.order !== undefined) lines.push(`linearized #${v.order}; state after: ${v.state ?? '?'}`);
  else if (v.stuck) lines.push('could not be placed after the longest linearizable prefix');
  else if (op.status !== 'fail') lines.push('not in the drawn linearization');
  return lines.join('\n');
}

/** Draws one view as an inline SVG. */
function drawView(
  view: View,
  ops: readonly ClientOp[],
  nemesis: readonly NemesisInterval[],
  unit: 'ns' | 'order',
  styles: ReadonlyMap<string, FaultStyle>,
  leaders: readonly LeaderSpan[],
): string {
  const procs = [...new Set(view.ops.map((v) => ops[v.idx]!.process))].sort(processOrder);
  const rowOf = new Map(procs.map((p, i) => [p, i]));
  const span = Math.max(view.to - view.from, 1);
  const from = view.from - span * 0.01;
  const to = view.to + span * 0.03;
  const plot = WIDTH - GUTTER - RIGHT;
  const x = (t: number): number => GUTTER + ((Math.min(t, to) - from) / (to - from)) * plot;
  // Order labels, laid out before the rows: each takes the lowest lane of its row where it
  // clears the labels already placed, so no two ever overlap.
  const path = view.ops
    .filter((v) => v.order !== undefined && v.at !== undefined)
    .sort((a, b) => a.order! - b.order!);
  const laneOf = new Map<ViewOp, number>();
  const lanes = procs.map(() => [] as number[]); // per row and lane: the right edge taken so far
  for (const v of [...path].sort((a, b) => a.at! - b.at!)) {
    const r = rowOf.get(ops[v.idx]!.process)!;
    const w = String(v.order).length * 6 + 6;
    const left = x(v.at!) - w / 2;
    const edges = lanes[r]!;
    let k = edges.findIndex((right) => left >= right + 2);
    if (k < 0 && edges.length < MAX_LABEL_LANES) k = edges.length;
    if (k < 0) continue;
    edges[k] = left + w;
    laneOf.set(v, k);
  }
  const hidden = path.length - laneOf.size;
  const rowHeights = lanes.map((l) => ROW + Math.max(0, l.length - 1) * LABEL_LANE);
  const rowTops: number[] = [];
  let acc = 0;
  for (const h of rowHeights) {
    rowTops.push(acc);
    acc += h;
  }

  const shown = nemesis.filter((n) => n.end >= from && n.start <= to);
  const kinds = [...new Set(shown.map((n) => n.kind))];
  const led = leaders.filter((l) => l.end >= from && l.start <= to);
  const band = led.length > 0 ? LEADER_BAND : 0;
  const top = band + kinds.length * LANE + 6;
  const rowsH = acc;
  /** Top edge of a row's bars. */
  const barY = (r: number): number => top + rowTops[r]! + rowHeights[r]! - BAR - 4;
  const height = top + rowsH + AXIS;
  const parts: string[] = [];
  parts.push(
    `<svg class="timeline" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">`,
  );
  // Row backgrounds and process labels.
  procs.forEach((p, i) => {
    const y = top + rowTops[i]!;
    if (i % 2 === 0) {
      parts.push(`<rect class="band" x="0" y="${y}" width="${WIDTH}" height="${rowHeights[i]!}"/>`);
    }
    parts.push(
      `<text class="proc" x="${GUTTER - 8}" y="${barY(i) + 13}" text-anchor="end">${escapeHtml(`p ${String(p)}`)}</text>`,
    );
  });
  // Who led, as the cluster said: a band above the fault lanes, a span per leader, and a thin
  // line across the rows at each change.
  if (band > 0) {
    const names = [...new Set(leaders.flatMap((l) => (l.node === null ? [] : [l.node])))].sort();
    parts.push(
      `<text class="leaderlabel" x="${GUTTER - 8}" y="${band - 6}" text-anchor="end">leader</text>`,
    );
    for (const l of led) {
      const x0 = x(Math.max(l.start, from));
      const x1 = x(Math.min(l.end, to));
      const w = Math.max(x1 - x0, 1);
      const colour =
        l.node === null
          ? NO_LEADER
          : LEADER_COLOURS[names.indexOf(l.node) % LEADER_COLOURS.length]!;
      const text = l.node === null ? 'no leader' : l.node;
      const title = `${l.node === null ? 'no leader' : `leader ${l.node}`} from ${timeText(l.start, unit)} until ${timeText(l.end, unit)} (as the cluster said)`;
      const fits = Math.floor((w - 6) / CHAR) >= text.length;
      parts.push(
        `<g class="leader"><title>${escapeHtml(title)}</title>` +
          `<rect x="${fmt(x0)}" y="2" width="${fmt(w)}" height="${band - 4}" rx="2" style="fill:${colour}"/>` +
          (fits ? `<text x="${fmt(x0 + 3)}" y="${band - 6}">${escapeHtml(text)}</text>` : '') +
          '</g>',
      );
      if (l.start > from && l !== leaders[0]) {
        parts.push(
          `<line class="leader-change" x1="${fmt(x0)}" y1="2" x2="${fmt(x0)}" y2="${top + rowsH}"/>`,
        );
      }
    }
  }
  // Nemesis faults: a labelled lane per kind, shading across the rows.
  for (const n of shown) {
    const lane = kinds.indexOf(n.kind);
    const x0 = x(Math.max(n.start, from));
    const x1 = n.interval ? x(Math.min(n.end, to)) : x0 + 2;
    const w = Math.max(x1 - x0, 2);
    const title = `${n.label}${n.interval ? ` until ${Number.isFinite(n.end) ? timeText(n.end, unit) : 'the end'}` : ''} (from ${timeText(n.start, unit)})${n.value !== undefined ? `\n${compact(n.value, 200)}` : ''}`;
    // A kind the nemesis styled keeps its own colour (an inline style beats the lane's class).
    const colour = styles.get(n.kind)?.colour;
    const fill = colour === undefined ? '' : ` style="fill:${escapeHtml(colour)}"`;
    parts.push(
      `<g class="nemesis k${lane % 4}"><title>${escapeHtml(title)}</title>` +
        `<rect class="shade"${fill} x="${fmt(x0)}" y="${top}" width="${fmt(w)}" height="${rowsH}"/>` +
        `<rect class="lane"${fill} x="${fmt(x0)}" y="${band + lane * LANE + 2}" width="${fmt(w)}" height="${LANE - 3}" rx="2"/>` +
        `<text x="${fmt(x0 + 3)}" y="${band + lane * LANE + 12}">${escapeHtml(n.label)}</text></g>`,
    );
  }
  // Axis.
  const axisY = top + rowsH;
  parts.push(
    `<line class="axis" x1="${GUTTER}" y1="${axisY}" x2="${WIDTH - RIGHT}" y2="${axisY}"/>`,
  );
  for (const t of ticks(from, to, 8)) {
    const tx = fmt(x(t));
    parts.push(
      `<line class="tick" x1="${tx}" y1="${top}" x2="${tx}" y2="${axisY + 4}"/>` +
        `<text class="ticklabel" x="${tx}" y="${axisY + 16}" text-anchor="middle">${escapeHtml(timeText(t, unit))}</text>`,
    );
  }
  parts.push(
    `<text class="ticklabel" x="${GUTTER}" y="${axisY + 30}">${unit === 'order' ? 'event order (the history has no clock)' : 'time since the run started'}</text>`,
  );
  // Op bars.
  for (const v of view.ops) {
    const op = ops[v.idx]!;
    const y = barY(rowOf.get(op.process)!);
    const x0 = x(op.call);
    const open = !Number.isFinite(op.return);
    const x1 = open ? WIDTH - RIGHT + 8 : Math.max(x(op.return), x0 + 3);
    const w = x1 - x0;
    const fits = Math.floor((w - 6) / CHAR);
    const label =
      fits >= 3
        ? v.description.length > fits
          ? `${v.description.slice(0, fits - 1)}…`
          : v.description
        : '';
    parts.push(
      `<g class="${barClass(op, v)}" data-i="${v.idx}"><title>${escapeHtml(tooltip(op, v, unit))}</title>` +
        `<rect x="${fmt(x0)}" y="${y}" width="${fmt(w)}" height="${BAR}" rx="3"/>` +
        (label ? `<text x="${fmt(x0 + 4)}" y="${y + 14}">${escapeHtml(label)}</text>` : '') +
        '</g>',
    );
  }
  // The linearization: a path through the bars, numbered in order.
  let segment: string[] = [];
  const flush = (): void => {
    if (segment.length > 1) parts.push(`<polyline class="path" points="${segment.join(' ')}"/>`);
    segment = [];
  };
  let prev = -1;
  // The path runs along the bars' top edges, clear of their labels.
  const cy = (v: ViewOp): number => barY(rowOf.get(ops[v.idx]!.process)!);
  for (const v of path) {
    if (v.order !== prev + 1) flush(); // a gap: the steps in between are outside the window
    segment.push(`${fmt(x(v.at!))},${cy(v)}`);
    prev = v.order!;
  }
  flush();
  for (const v of path) {
    const lane = laneOf.get(v);
    if (lane === undefined) continue;
    const label = String(v.order);
    const w = label.length * 6 + 6;
    const px = x(v.at!);
    const ly = cy(v) - lane * LABEL_LANE;
    parts.push(
      `<g class="step"><title>${escapeHtml(`#${v.order}: ${v.description}\nstate after: ${v.state ?? '?'}`)}</title>` +
        `<rect x="${fmt(px - w / 2)}" y="${ly - 6}" width="${w}" height="12" rx="6"/>` +
        `<text x="${fmt(px)}" y="${ly + 3.5}" text-anchor="middle">${label}</text></g>`,
    );
  }
  for (const v of view.ops.filter((o) => o.stuck)) {
    const op = ops[v.idx]!;
    parts.push(
      `<text class="stuckmark" x="${fmt(x(op.call) - 3)}" y="${cy(v) + 14}" text-anchor="end">✗</text>`,
    );
  }
  parts.push('</svg>');
  const note =
    hidden > 0
      ? `<p class="meta">${hidden} order label${hidden === 1 ? '' : 's'} left out where ${hidden === 1 ? 'it' : 'they'} would overlap others; the path still passes through ${hidden === 1 ? 'its step' : 'their steps'}.</p>`
      : '';
  return parts.join('') + note;
}

const STYLE = `
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:20px;color:#1d2330;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 6px}
.verdict{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;color:#fff}
.v-true{background:#2e7d32}.v-false{background:#c62828}.v-unknown{background:#ef6c00}
.meta{color:#555}.notes li{margin:2px 0}
.legend span{display:inline-flex;align-items:center;margin-right:14px}
.legend i{display:inline-block;width:26px;height:11px;margin-right:5px;border-radius:3px;border:1.5px solid}
.scroll{overflow-x:auto;border:1px solid #e3e6ec;border-radius:6px}
svg.timeline{font:10px system-ui,sans-serif;display:block}
.band{fill:#f6f7fa}.proc{fill:#444;font-size:11px}
.axis{stroke:#888}.tick{stroke:#e1e3e8}.ticklabel{fill:#666}
.op rect{stroke-width:1.4}.op text{fill:#1d2330;pointer-events:none}
.op.ok rect{fill:#d6e6f8;stroke:#3f78c0}
.op.info rect{fill:url(#hatch-info);stroke:#d48a12;stroke-dasharray:5 3}
.op.pending rect{fill:url(#hatch-pending);stroke:#8a8f99;stroke-dasharray:2 3}
.op.fail rect{fill:#f1f1f1;stroke:#bbb}.op.fail text{fill:#999;text-decoration:line-through}
.op.stuck rect{fill:#fbd3d3;stroke:#c62828;stroke-width:3}
.op:hover rect,.op.sel rect{stroke:#111;stroke-width:2.5}
.path{fill:none;stroke:#6a1b9a;stroke-width:1.2;stroke-opacity:.45}
.step rect{fill:#6a1b9a}.step text{fill:#fff;font-size:9px;font-weight:600}
.stuckmark{fill:#c62828;font-size:14px;font-weight:700}
.nemesis .shade{fill-opacity:.13}.nemesis .lane{fill-opacity:.55}.nemesis text{fill:#222;font-size:10px}
.leader rect{fill-opacity:.8}.leader text{fill:#fff;font-size:10px;font-weight:600;pointer-events:none}.leaderlabel{fill:#444;font-size:11px}
.leader-change{stroke:#3a3f4b;stroke-width:1;stroke-dasharray:2 2;stroke-opacity:.6}
.k0 rect{fill:#e53935}.k1 rect{fill:#8e24aa}.k2 rect{fill:#00897b}.k3 rect{fill:#f9a825}
#detail{white-space:pre-wrap;font:12px ui-monospace,Menlo,Consolas,monospace;background:#f6f7fa;border:1px solid #e3e6ec;border-radius:6px;padding:8px;min-height:1.5em}
`;

// Patterns shared by every drawing (indeterminate ops are hatched).
const DEFS =
  '<svg width="0" height="0" style="position:absolute"><defs>' +
  '<pattern id="hatch-info" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fdf0d9"/><line x1="0" y1="0" x2="0" y2="6" stroke="#f0b959" stroke-width="2"/></pattern>' +
  '<pattern id="hatch-pending" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f3f3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c9ccd2" stroke-width="2"/></pattern>' +
  '</defs></svg>';

// Clicking a bar (or a numbered step) pins its details below the drawings.
const SCRIPT =
  "document.addEventListener('click',function(e){var g=e.target.closest&&e.target.closest('g.op,g.step,g.nemesis');" +
  "document.querySelectorAll('g.sel').forEach(function(s){s.classList.remove('sel')});" +
  "var d=document.getElementById('detail');if(!g||!d){return}g.classList.add('sel');" +
  "var t=g.querySelector('title');d.textContent=t?t.textContent:''});";

const LEGEND_START =
  '<div class="legend">' +
  '<span><i style="background:#d6e6f8;border-color:#3f78c0"></i>ok</span>' +
  '<span><i style="background:#fdf0d9;border-color:#d48a12;border-style:dashed"></i>info (outcome unknown, runs to the end)</span>' +
  '<span><i style="background:#f3f3f3;border-color:#8a8f99;border-style:dotted"></i>pending (never returned)</span>' +
  '<span><i style="background:#f1f1f1;border-color:#bbb"></i>fail</span>' +
  '<span><i style="background:#fbd3d3;border-color:#c62828;border-width:3px"></i>could not be placed</span>' +
  '<span><i style="background:#6a1b9a;border-color:#6a1b9a;border-radius:6px;width:16px"></i>linearization order</span>';
const LEADER_SWATCH =
  '<span><i style="background:linear-gradient(90deg,#3949ab 50%,#00897b 50%);border-color:#3a3f4b"></i>leader (as the cluster said; a dashed line at each change)</span>';
const HEAL_SWATCH =
  '<span><i style="background:none;border:none;border-left:2px dashed #333;width:8px;border-radius:0"></i>heal (every fault healed)</span>';
const ANY_FAULT =
  '<span><i style="background:#e53935;opacity:.45;border-color:#e53935"></i>fault (nemesis)</span>';

/** The legend: a swatch per styled fault kind that happened; the generic one for the rest. */
function legend(
  nemesis: readonly NemesisInterval[],
  styles: ReadonlyMap<string, FaultStyle>,
  leaders: boolean,
): string {
  const healed = nemesis.some((n) => n.kind === HEAL_ALL_KIND) ? HEAL_SWATCH : '';
  const start = `${leaders ? `${LEGEND_START}${LEADER_SWATCH}` : LEGEND_START}${healed}`;
  if (styles.size === 0) return `${start}${ANY_FAULT}</div>`;
  const kinds = [...new Set(nemesis.map((n) => n.kind))].filter((k) => k !== HEAL_ALL_KIND);
  const swatches = kinds.flatMap((k) => {
    const s = styles.get(k);
    if (s === undefined) return [];
    const c = escapeHtml(s.colour);
    return [
      `<span><i style="background:${c};opacity:.45;border-color:${c}"></i>${escapeHtml(s.label)}</span>`,
    ];
  });
  const unstyled = kinds.length === 0 || kinds.some((k) => !styles.has(k));
  return `${start}${swatches.join('')}${unstyled ? ANY_FAULT : ''}</div>`;
}

function verdictBadge(v: boolean | 'unknown'): string {
  const text = v === true ? 'linearizable' : v === false ? 'not linearizable' : 'unknown';
  return `<span class="verdict v-${String(v)}">${text}</span>`;
}

/**
 * Renders the anomaly timeline: one self-contained HTML page (inline CSS, SVG and a few lines of
 * JS; nothing fetched). For an invalid (or unknown) result it draws each failing partition, as a
 * window of at most `maxOps` ops around the point where the longest linearization stops; for a
 * valid one, the whole history when it is small, else its beginning. What is left out is said.
 */
export function renderTimeline(input: TimelineInput, options: TimelineOptions = {}): string {
  const maxOps = Math.max(1, options.maxOps ?? DEFAULT_MAX_OPS);
  const maxPartitions = Math.max(1, options.maxPartitions ?? DEFAULT_MAX_PARTITIONS);
  const unit = input.timeUnit ?? 'ns';
  const { ops, result } = input;
  const styles = new Map((options.faultStyles ?? []).map((s) => [s.kind, s]));
  const nemesis = nemesisIntervals(input.events ?? [], options.faultStyles);
  const leaders = leaderSpans(input.events ?? []);
  // Illegal partitions first, then undecided ones.
  const failing = [
    ...result.partitions.filter((p) => p.valid === false),
    ...result.partitions.filter((p) => p.valid === 'unknown'),
  ];
  const views: View[] = [];
  /** The window each anomaly drawing shows: the whole-run view's "Show the anomaly" goes there. */
  const windows = new Map<string, [number, number]>();
  const notes: string[] = [];

  if (failing.length > 0) {
    for (const p of failing.slice(0, maxPartitions)) {
      const v = anomalyView(ops, p, maxOps);
      views.push(v);
      windows.set(p.key, [v.from, v.to]);
    }
    if (failing.length > maxPartitions) {
      const rest = failing.slice(maxPartitions);
      notes.push(
        `${rest.length} more partitions are not linearizable or undecided and not drawn: ` +
          `${rest
            .slice(0, 20)
            .map((p) => JSON.stringify(p.key))
            .join(', ')}${rest.length > 20 ? ', …' : ''}.`,
      );
    }
    const passed = result.partitions.length - failing.length;
    if (passed > 0) notes.push(`${passed} linearizable partitions are not drawn.`);
  } else {
    // A valid history searched as one partition with its witness: drawn with the linearization.
    const only = result.partitions.length === 1 ? result.partitions[0] : undefined;
    if (only?.info && only.info.longest.length > 0 && ops.length <= maxOps) {
      views.push({ ...anomalyView(ops, only, maxOps), heading: 'The whole history' });
    } else if (ops.length <= maxOps) {
      views.push(wholeView(ops, maxOps, 'The whole history'));
    }
  }
  // The whole run, every op, zoomable: the faults, and where each failing key got stuck.
  const whole = wholeRunData({
    ops,
    nemesis,
    leaders,
    unit,
    healKind: HEAL_ALL_KIND,
    colours: new Map([...styles].map(([k, s]) => [k, s.colour])),
    anomalies: failing
      .filter((p) => p.valid === false)
      .map((p) => ({
        key: p.key,
        ...(windows.has(p.key) ? { window: windows.get(p.key)! } : {}),
        stuck: (p.info?.stuck ?? []).flatMap((s) => {
          const id = p.info?.operations[s]?.id;
          return id === undefined ? [] : [id];
        }),
      })),
    ...(options.maxEmbeddedOps !== undefined ? { maxOps: options.maxEmbeddedOps } : {}),
    processName: (p) => `p ${String(p)}`,
  });
  const wholeSection =
    ops.length > 0
      ? `<h2>The whole run</h2><p class="meta">Every one of the ${ops.length} ops${whole.n < ops.length ? ` (thinned to ${whole.n}: every op that did not complete ok is kept)` : ''} and every fault. Scroll to zoom, drag to pan; the strip above the faults is the whole run, with the window in view.</p>${wholeRunSection(whole)}`
      : '';

  const title = input.title ?? 'faultline timeline';
  const head =
    `<h1>${escapeHtml(title)}</h1>` +
    `<div class="meta">${verdictBadge(result.valid)} ` +
    `${escapeHtml(`${result.model !== undefined ? `model ${result.model} · ` : ''}${ops.length} ops · ${result.partitions.length} partition${result.partitions.length === 1 ? '' : 's'}${nemesis.length > 0 ? ` · ${nemesis.length} fault${nemesis.length === 1 ? '' : 's'} (nemesis)` : ''}`)}</div>` +
    (notes.length > 0
      ? `<ul class="notes">${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`
      : '');
  const body = views
    .map(
      (v) =>
        `<h2>${escapeHtml(v.heading)}</h2>` +
        (v.notes.length > 0
          ? `<ul class="notes">${v.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`
          : '') +
        (v.ops.length > 0
          ? `<div class="scroll">${drawView(v, ops, nemesis, unit, styles, leaders)}</div>`
          : '<p>No operations to draw.</p>'),
    )
    .join('');

  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    `<title>${escapeHtml(title)}</title><style>${STYLE}${WHOLE_RUN_STYLE}</style></head><body>` +
    head +
    legend(nemesis, styles, leaders.length > 0) +
    DEFS +
    (failing.length > 0 ? body + wholeSection : wholeSection + body) +
    (views.length > 0
      ? '<h2>Details</h2><div id="detail">Hover over a bar for its details; click to pin them here.</div>'
      : '') +
    `<script>${SCRIPT}</script><script>${WHOLE_RUN_SCRIPT}</script></body></html>\n`
  );
}
