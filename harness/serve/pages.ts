import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { escapeHtml as esc } from '../../checker/timeline/render.js';
import { FILES } from '../results-folder.js';
import type { RunEntry } from './runs.js';

/**
 * The pages of `faultline serve`: the index of runs (filter, search, trends per test name) and a
 * run's page. Every text that comes from a run (names, reasons, logs, values) goes through
 * `esc` here, or through textContent in the pages' scripts.
 */

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#fff}
header{background:#1d2330;color:#fff;padding:10px 20px}header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:16px 20px;max-width:1500px}
h1{font-size:20px;margin:0 0 6px}h2{font-size:16px;margin:22px 0 8px}
table{border-collapse:collapse;width:100%}.trend{content-visibility:auto;contain-intrinsic-size:auto 110px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e3e6ec;vertical-align:top}
th{background:#f6f7fa;font-weight:600;font-size:13px}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;color:#fff;font-size:12px}
.v-valid{background:#2e7d32}.v-invalid{background:#c62828}.v-unknown{background:#ef6c00}.v-running{background:#1565c0}
.s-complete{background:#607d8b}.s-running{background:#1565c0}.s-aborted,.s-crashed,.s-failed-to-start,.s-unknown{background:#6d4c41}
.filters{display:flex;gap:10px;align-items:center;margin:8px 0;flex-wrap:wrap}
.filters input[type=search]{width:280px;padding:4px 8px}
.trend{display:grid;grid-template-columns:200px 1fr;gap:4px 16px;padding:10px 0;border-bottom:1px solid #e3e6ec}
.trend h3{font-size:14px;margin:0;word-break:break-all}.charts{display:flex;flex-wrap:wrap;gap:14px}
.chart{font-size:11px;color:#555}.chart svg{display:block}
.strip a{display:inline-block;width:12px;height:16px;margin-right:2px;border-radius:2px}
.muted{color:#666}.reasons li{margin:2px 0}
code,pre{font:12px ui-monospace,Menlo,Consolas,monospace}pre{background:#f6f7fa;border:1px solid #e3e6ec;border-radius:6px;padding:8px;white-space:pre-wrap;word-break:break-all}
.stats td:first-child{color:#555;width:220px}
.plots object{width:100%;max-width:1400px;aspect-ratio:900/320;display:block;margin:6px 0 14px;border:1px solid #e3e6ec;border-radius:6px}
iframe.timeline{width:100%;height:600px;border:1px solid #e3e6ec;border-radius:6px}
.logs{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:10px}
.log{border:1px solid #e3e6ec;border-radius:6px;overflow:hidden}.log h4{margin:0;padding:4px 8px;background:#f6f7fa;font-size:13px}
.log pre{margin:0;border:0;border-radius:0;max-height:320px;overflow:auto}
.progress{height:10px;background:#e3e6ec;border-radius:5px;overflow:hidden;max-width:600px}.progress i{display:block;height:100%;background:#1565c0}
`;

function page(title: string, body: string, script = ''): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style></head>` +
    `<body><header><a href="/">faultline</a> · results</header><main>${body}</main>` +
    (script ? `<script>${script}</script>` : '') +
    '</body></html>\n'
  );
}

/** URL path of a run (each part encoded). */
export function runHref(r: Pick<RunEntry, 'name' | 'folder'>): string {
  return `/runs/${encodeURIComponent(r.name)}/${encodeURIComponent(r.folder)}/`;
}

const badge = (cls: string, text: string) => `<span class="badge ${cls}">${esc(text)}</span>`;
const verdictBadge = (v: string) => badge(`v-${/^[a-z]+$/.test(v) ? v : 'unknown'}`, v);
const statusBadge = (s: string) => badge(`s-${/^[a-z-]+$/.test(s) ? s : 'unknown'}`, s);
const num = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined ? '–' : x.toFixed(digits);
const when = (iso: string) =>
  iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')
    .replace(/Z$/, '');

/** A small line chart of one measure over a test's runs; null values leave gaps. */
function sparkline(label: string, values: readonly (number | null)[], unit: string): string {
  const W = 170;
  const H = 34;
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return '';
  const lo = Math.min(0, ...known);
  const hi = Math.max(...known, lo + 1e-9);
  const x = (i: number) => (values.length === 1 ? W / 2 : 3 + (i / (values.length - 1)) * (W - 6));
  const y = (v: number) => H - 3 - ((v - lo) / (hi - lo)) * (H - 6);
  const dots = values
    .map((v, i) =>
      v === null ? '' : `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="1.8"/>`,
    )
    .join('');
  const segs: string[] = [];
  let cur: string[] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (cur.length > 1) segs.push(cur.join(' '));
      cur = [];
    } else cur.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  if (cur.length > 1) segs.push(cur.join(' '));
  const last = known.at(-1)!;
  return (
    `<div class="chart" data-measure="${esc(label)}">${esc(label)}: <b>${esc(num(last, last < 10 ? 2 : 0))}${esc(unit)}</b>` +
    `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)}">` +
    `<rect width="${W}" height="${H}" fill="#f6f7fa"/>` +
    segs
      .map((p) => `<polyline fill="none" stroke="#3f78c0" stroke-width="1.5" points="${p}"/>`)
      .join('') +
    `<g fill="#3f78c0">${dots}</g></svg></div>`
  );
}

/** Trends per test name over its runs (oldest first, the latest 60). */
function trends(runs: readonly RunEntry[]): string {
  const byName = new Map<string, RunEntry[]>();
  for (const r of runs) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  const blocks: string[] = [];
  for (const [name, list] of [...byName].sort((a, b) => a[0].localeCompare(b[0]))) {
    const ordered = [...list].reverse().slice(-60);
    const strip = ordered
      .map(
        (r) =>
          `<a class="v-${esc(/^[a-z]+$/.test(r.verdict) ? r.verdict : 'unknown')}" href="${runHref(r)}" title="${esc(`${when(r.startedAt)}: ${r.verdict}`)}"></a>`,
      )
      .join('');
    const s = ordered.map((r) => r.summary);
    const charts = [
      sparkline(
        'throughput',
        s.map((x) => x?.throughput ?? null),
        ' ok ops/s',
      ),
      sparkline(
        'p50 latency',
        s.map((x) => x?.latencyMs.p50 ?? null),
        ' ms',
      ),
      sparkline(
        'p99 latency',
        s.map((x) => x?.latencyMs.p99 ?? null),
        ' ms',
      ),
      sparkline(
        'answered during faults',
        s.map((x) =>
          x?.availability?.duringFaults === null || x?.availability?.duringFaults === undefined
            ? null
            : x.availability.duringFaults * 100,
        ),
        ' %',
      ),
      sparkline(
        'failover (median)',
        s.map((x) => x?.failoverMs?.median ?? null),
        ' ms',
      ),
    ].join('');
    const counts = ['valid', 'invalid', 'unknown']
      .map((v) => `${ordered.filter((r) => r.verdict === v).length} ${v}`)
      .join(', ');
    blocks.push(
      `<div class="trend" data-name="${esc(name)}"><div><h3>${esc(name)}</h3><div class="muted">${ordered.length} run${ordered.length === 1 ? '' : 's'}: ${esc(counts)}</div>` +
        `<div class="strip" title="verdicts, oldest first">${strip}</div></div><div class="charts">${charts}</div></div>`,
    );
  }
  return blocks.join('');
}

/** The index: every run, newest first, with filter and search, then the trends per test. */
export function indexPage(root: string, runs: readonly RunEntry[]): string {
  const rows = runs
    .map((r) => {
      const text = [
        r.name,
        r.system,
        r.workload,
        r.faults.join(','),
        r.status,
        r.verdict,
        r.seed ?? '',
        r.startedAt,
      ]
        .join(' ')
        .toLowerCase();
      return (
        `<tr data-text="${esc(text)}" data-verdict="${esc(r.verdict)}" data-status="${esc(r.status)}">` +
        `<td><a href="${runHref(r)}">${esc(r.name)}</a></td><td>${esc(when(r.startedAt))}</td>` +
        `<td>${esc(r.system)}</td><td>${esc(r.workload)}</td><td>${esc(r.faults.join(', ') || 'none')}</td>` +
        `<td>${statusBadge(r.status)}</td><td>${verdictBadge(r.verdict)}</td><td class="num">${esc(String(r.seed ?? '–'))}</td>` +
        `<td class="num">${esc(num(r.ops))}</td><td class="num">${esc(r.durationS === null ? '–' : `${r.durationS.toFixed(1)} s`)}</td></tr>`
      );
    })
    .join('');
  const body =
    `<h1>Runs in ${esc(root)}</h1>` +
    `<div class="filters"><input type="search" id="q" placeholder="search: name, system, fault, seed…" aria-label="search">` +
    '<label>verdict <select id="verdict"><option value="">any</option><option>valid</option><option>invalid</option><option>unknown</option><option>running</option></select></label>' +
    '<label>status <select id="status"><option value="">any</option><option>complete</option><option>running</option><option>aborted</option><option>crashed</option><option>failed-to-start</option></select></label>' +
    `<span id="shown" class="muted">${runs.length} run${runs.length === 1 ? '' : 's'}</span></div>` +
    (runs.length === 0
      ? '<p>No runs here yet: <code>faultline run --out DIR</code> writes them.</p>'
      : '<table id="runs"><thead><tr><th>test</th><th>started (UTC)</th><th>system</th><th>workload</th><th>faults</th><th>status</th><th>verdict</th><th>seed</th><th>ops</th><th>duration</th></tr></thead>' +
        `<tbody>${rows}</tbody></table>`) +
    (runs.length > 0 ? `<h2>Trends per test</h2>${trends(runs)}` : '');
  const script =
    "var q=document.getElementById('q'),v=document.getElementById('verdict'),s=document.getElementById('status'),shown=document.getElementById('shown');" +
    "function f(){var t=q.value.toLowerCase().trim(),n=0,rows=document.querySelectorAll('#runs tbody tr');rows.forEach(function(r){" +
    'var ok=(!t||r.dataset.text.indexOf(t)>=0)&&(!v.value||r.dataset.verdict===v.value)&&(!s.value||r.dataset.status===s.value);r.hidden=!ok;if(ok)n++});' +
    "shown.textContent=n+' of '+rows.length+' runs'}[q,v,s].forEach(function(e){e.addEventListener('input',f)});";
  return page('faultline runs', body, script);
}

function statRows(r: RunEntry): string {
  const s = r.summary;
  const rows: [string, string][] = [
    ['test', r.name],
    ['started (UTC)', when(r.startedAt)],
    ['system / backend', `${r.system} / ${s?.backend ?? r.test?.spec?.backend ?? '?'}`],
    ['nodes', String(s?.nodes ?? r.test?.spec?.nodes ?? '?')],
    ['workload', r.workload],
    ['faults asked for', r.faults.join(', ') || 'none'],
    ['seed', String(r.seed ?? '–')],
  ];
  if (s !== undefined) {
    const happened = Object.entries(s.faultsHappened)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    rows.push(
      ['faults that happened', happened || 'none'],
      [
        'ops',
        `${s.ops.total} (ok ${s.ops.ok}, fail ${s.ops.fail}, info ${s.ops.info}, pending ${s.ops.pending})`,
      ],
      ['duration', `${s.durationS.toFixed(1)} s`],
      ['throughput', `${s.throughput} ok ops/s`],
      [
        'latency (ok ops)',
        `p50 ${num(s.latencyMs.p50, 1)} ms · p90 ${num(s.latencyMs.p90, 1)} ms · p99 ${num(s.latencyMs.p99, 1)} ms · max ${num(s.latencyMs.max, 1)} ms`,
      ],
    );
    if (s.availability !== undefined) {
      const pc = (x: number | null) => (x === null ? 'no ops' : `${(x * 100).toFixed(1)} %`);
      rows.push([
        'answered',
        `${pc(s.availability.duringFaults)} during faults · ${pc(s.availability.outsideFaults)} otherwise`,
      ]);
    }
    if (s.failoverMs !== undefined) {
      rows.push([
        'ok again after a fault started',
        `median ${num(s.failoverMs.median)} ms · worst ${num(s.failoverMs.worst)} ms`,
      ]);
    }
  }
  return `<table class="stats">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

/** A run's page: verdict and reasons, stats, plots, timeline, logs by moment, downloads. */
export function runPage(r: RunEntry): string {
  const s = r.summary;
  const has = (f: string) => existsSync(join(r.dir, f));
  const reasons = [
    ...(s?.reasons ?? r.test?.reasons ?? []),
    ...(r.test?.error && r.status !== 'complete' ? [r.test.error] : []),
  ];
  const anomalies = s?.anomalies ?? [];
  const running = r.status === 'running';
  const words: Record<string, string> = {
    valid: 'valid: every checker decided, with enough evidence, and found nothing wrong',
    invalid: 'invalid: an anomaly was found',
    unknown: 'unknown: no conclusion (see why below)',
    running: 'still running',
  };
  const plots = [FILES.latency, FILES.percentiles, FILES.rate]
    .filter(has)
    // As objects rather than images, so their tooltips (fault, bucket figures) answer a hover.
    .map((f) => `<object type="image/svg+xml" data="${esc(f)}" aria-label="${esc(f)}"></object>`)
    .join('');
  const downloads = [FILES.history, FILES.results, FILES.summary, FILES.test]
    .filter(has)
    .map((f) => `<a href="${esc(f)}" download>${esc(f)}</a>`)
    .join(' · ');
  const checkers = (s?.checkers ?? [])
    .map(
      (c) =>
        `<li>${esc(c.name)}: ${verdictBadge(c.valid === true ? 'valid' : c.valid === false ? 'invalid' : 'unknown')}${c.anomalies.length > 0 ? `<ul>${c.anomalies.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>` : ''}</li>`,
    )
    .join('');
  const body =
    `<h1>${esc(r.name)} <span class="muted">${esc(when(r.startedAt))}</span></h1>` +
    `<p id="verdict">${statusBadge(r.status)}${running ? '' : ` ${verdictBadge(r.verdict)}`} <span>${esc(words[r.verdict] ?? r.verdict)}</span></p>` +
    (running
      ? '<div id="live"><h2>In progress</h2><div class="progress"><i id="bar" style="width:0"></i></div><p id="progress" class="muted">waiting for the first events…</p></div>'
      : '') +
    (reasons.length > 0
      ? `<h2>Why</h2><ul class="reasons">${reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`
      : '') +
    (anomalies.length > 0
      ? `<h2>Anomalies</h2><ul class="reasons" id="anomalies">${anomalies.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`
      : '') +
    (checkers ? `<h2>Checkers</h2><ul class="reasons">${checkers}</ul>` : '') +
    `<h2>Stats</h2>${statRows(r)}` +
    (s !== undefined ? `<h2>Reproduce</h2><pre id="reproduce">${esc(s.reproduce)}</pre>` : '') +
    (downloads ? `<h2>Files</h2><p>${downloads}</p>` : '') +
    (plots ? `<h2>Plots</h2><div class="plots">${plots}</div>` : '') +
    (has(FILES.timeline)
      ? `<h2>Timeline</h2><p class="muted">Click a fault band or an op to see each node's log lines of that moment below (<a href="${esc(FILES.timeline)}">open the timeline on its own</a>).</p><iframe class="timeline" src="${esc(FILES.timeline)}" title="timeline"></iframe>`
      : '') +
    '<h2>Node logs</h2><form id="logform" class="filters"><label>moment (s since start) <input id="at" type="number" step="0.001" style="width:110px"></label>' +
    '<label>± <input id="win" type="number" step="0.1" value="1" style="width:60px"> s</label>' +
    '<label>search <input id="lq" type="search" placeholder="text in the lines"></label><button>show</button>' +
    '<span id="logstatus" class="muted"></span></form><div id="logs" class="logs"></div>';
  return page(`${r.name} ${r.folder}`, body, runScript(running));
}

function runScript(running: boolean): string {
  return (
    "var at=document.getElementById('at'),win=document.getElementById('win'),lq=document.getElementById('lq'),logs=document.getElementById('logs'),ls=document.getElementById('logstatus');" +
    "function fmt(t){return t===null?'        ':(t<0?'-':'+')+Math.abs(t).toFixed(3)+'s'}" +
    "function load(){var p=new URLSearchParams();if(at.value!=='')p.set('at',at.value);p.set('window',win.value||'1');if(lq.value)p.set('q',lq.value);" +
    "ls.textContent='loading…';fetch('api/logs?'+p).then(function(r){return r.json()}).then(function(d){logs.textContent='';var total=0;" +
    "d.nodes.forEach(function(n){var box=document.createElement('div');box.className='log';box.dataset.node=n.node;var h=document.createElement('h4');" +
    "h.textContent=n.node+' · '+n.file+' · '+n.matched+' line'+(n.matched===1?'':'s')+(n.matched>n.lines.length?' (first '+n.lines.length+')':'');var pre=document.createElement('pre');" +
    "pre.textContent=n.lines.map(function(l){return fmt(l.t)+'  '+l.text}).join('\\n')||'(nothing)';total+=n.matched;box.appendChild(h);box.appendChild(pre);logs.appendChild(box)});" +
    "ls.textContent=total+' lines'+(at.value!==''?' within '+win.value+' s of '+(+at.value).toFixed(3)+' s':'')}).catch(function(e){ls.textContent='could not load the logs: '+e})}" +
    "document.getElementById('logform').addEventListener('submit',function(e){e.preventDefault();load()});" +
    // The timeline frame takes its content's height (same origin), so the page has one scrollbar.
    "var tf=document.querySelector('iframe.timeline');function fit(){try{var h=tf.contentDocument.body.getBoundingClientRect().bottom;if(h>0)tf.style.height=Math.ceil(h+24)+'px'}catch(e){}}" +
    "if(tf){tf.addEventListener('load',function(){fit();new ResizeObserver(fit).observe(tf.contentDocument.body)})}" +
    // A click on a fault band in the timeline (same origin) picks the moment.
    "window.addEventListener('message',function(e){if(e.origin!==location.origin||!e.data||typeof e.data.faultlineMoment!=='number')return;" +
    "at.value=(e.data.faultlineMoment/1e9).toFixed(3);load();document.getElementById('logs').scrollIntoView({block:'nearest'})});" +
    (running
      ? "function poll(){fetch('api/progress').then(function(r){return r.json()}).then(function(p){if(p.status!=='running'){location.reload();return}" +
        'var lim=p.timeLimitS||0;' +
        "var r=p.report,t=r&&r.phase==='main'?r.elapsedS:p.elapsedS;document.getElementById('bar').style.width=(lim?Math.min(100,t/lim*100):0)+'%';" +
        "document.getElementById('progress').textContent=(r?r.phase+' · ':'')+t.toFixed(1)+' s'+(lim?' of a '+lim+' s run':'')+' · '+p.events+' events'+" +
        "(r?' · '+Math.round(r.opsPerS)+' ops/s · ok '+r.ok+' · fail '+r.fail+' · info '+r.info+' · faults now: '+(r.faults||'none'):' · about '+p.ops+' ops')}).catch(function(){}).then(function(){setTimeout(poll,1500)})}poll();"
      : '')
  );
}

export function notFoundPage(what: string): string {
  return page('not found', `<h1>Not found</h1><p>${esc(what)}</p><p><a href="/">All runs</a></p>`);
}
