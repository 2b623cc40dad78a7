/**
 * The result as a page: for each anomaly class its smallest instance, and for a cycle its
 * transactions on the history's timeline (one lane each, a bar from invocation to completion)
 * with the edges between them, drawn and explained. Self-contained HTML, no scripts.
 */
import type { AnomalyReport, ElleResult, TxnSummary } from './check.js';

const html = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

const COLORS: Record<string, string> = {
  ww: '#c0392b',
  wr: '#2874a6',
  rw: '#b9770e',
  process: '#7d3c98',
  realtime: '#1e8449',
};

const LANE = 46;
const LEFT = 60;
const WIDTH = 760;

/** The SVG of one cycle: lanes in cycle order, an arrow per edge from one lane to the next. */
function cycleSvg(a: AnomalyReport, end: number): string {
  const txns = a.txns;
  const steps = a.steps ?? [];
  const starts = txns.map((t) => t.invokeIndex ?? t.index ?? 0);
  const ends = txns.map((t) => (t.status === 'info' ? end : (t.completeIndex ?? t.index ?? 0)));
  const lo = Math.min(...starts);
  const hi = Math.max(...ends, lo + 1);
  const x = (i: number) => LEFT + ((i - lo) / (hi - lo)) * (WIDTH - LEFT - 20);
  const y = (lane: number) => 30 + lane * LANE;
  const parts: string[] = [];
  txns.forEach((t, lane) => {
    const x1 = x(starts[lane]!);
    const x2 = Math.max(x(ends[lane]!), x1 + 6);
    parts.push(
      `<text x="4" y="${y(lane) + 4}" font-size="12">T${t.id}</text>`,
      `<rect x="${x1}" y="${y(lane) - 8}" width="${x2 - x1}" height="16" rx="3" fill="${t.status === 'info' ? '#ddd' : '#eee'}" stroke="#555"><title>${html(`T${t.id} (process ${String(t.process)}, ${t.status}): ${t.text}`)}</title></rect>`,
    );
  });
  steps.forEach((s, i) => {
    const from = i;
    const to = (i + 1) % txns.length;
    const color = COLORS[s.kind] ?? '#333';
    // Side by side, each where both its txns have begun, so that labels do not overlap.
    const xm = Math.min(x(Math.max(starts[from]!, starts[to]!)) + 10 + 56 * i, WIDTH - 50);
    const y1 = y(from) + (to > from ? 8 : -8);
    const y2 = y(to) + (to > from ? -8 : 8);
    parts.push(
      `<path d="M ${xm} ${y1} L ${xm} ${y2}" stroke="${color}" stroke-width="2" marker-end="url(#head-${s.kind})"><title>${html(s.because)}</title></path>`,
      `<text x="${xm + 4}" y="${(y1 + y2) / 2 + 4}" font-size="11" fill="${color}">${s.kind}</text>`,
    );
  });
  const markers = Object.entries(COLORS)
    .map(
      ([kind, color]) =>
        `<marker id="head-${kind}" markerWidth="8" markerHeight="8" refX="4" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="${color}"/></marker>`,
    )
    .join('');
  const height = 30 + txns.length * LANE;
  return `<svg width="${WIDTH}" height="${height}" xmlns="http://www.w3.org/2000/svg"><defs>${markers}</defs>${parts.join('')}</svg>`;
}

function txnList(txns: readonly TxnSummary[]): string {
  return `<ul>${txns
    .map(
      (t) =>
        `<li>T${t.id}: event ${t.index ?? '?'}, process ${html(String(t.process))}, ${t.status}: <code>${html(t.text)}</code></li>`,
    )
    .join('')}</ul>`;
}

export function renderElleReport(file: string, r: ElleResult, historyEnd: number): string {
  const verdict = r.valid === true ? 'valid' : r.valid === false ? 'INVALID' : 'unknown';
  const sections = r.anomalyTypes.map((type) => {
    const list = r.anomalies[type]!;
    const first = list[0]!;
    const drawn = first.steps !== undefined ? cycleSvg(first, historyEnd) : '';
    const steps =
      first.steps === undefined
        ? `<p>${html(first.text)}</p>`
        : `<ol>${first.steps.map((s) => `<li>T${s.from} &lt; T${s.to} (${s.kind}): ${html(s.because)}</li>`).join('')}</ol><p>${r.realtime ? '' : 'No invocations: transactions are placed at their completions. '}A contradiction.</p>`;
    return `<section><h2>${html(type)} <small>(${list.length} found)</small></h2>${drawn}${steps}${txnList(first.txns)}</section>`;
  });
  const models =
    r.not.length > 0
      ? `<p>Not ${html(r.not.join(', '))}${r.alsoNot.length > 0 ? `; also not ${html(r.alsoNot.join(', '))}` : ''}.</p>`
      : '';
  const notes = [...r.unknown, ...r.notes].map((n) => `<li>${html(n)}</li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${html(file)}: ${verdict}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:1em auto}code{font-size:90%}section{margin-top:2em}</style></head>
<body><h1>${html(file)}: ${verdict}</h1><p>${r.workload}, ${r.txns} txns, checked for ${html(r.consistencyModels.join(', '))}.</p>${models}${notes === '' ? '' : `<ul>${notes}</ul>`}${sections.join('')}</body></html>
`;
}
