/**
 * What a person waits for when inspecting results, in Debian's Chromium (playwright-core; run
 * scripts/ensure-chromium.sh first). Targets (issue 15):
 * - a 100k-op run's timeline interactive ≤ 2 s; a 1M-op run's ≤ 5 s;
 * - the index of 1,000 runs (`faultline serve`) ≤ 1 s.
 * "Interactive" is measured from the navigation's start until the page has drawn and answered
 * one input: for a timeline, a zoom-in click redrawn; for the index, a search typed and the rows
 * filtered. Each figure is the median of 3 fresh pages.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { FILES } from '../harness/results-folder.js';
import type { RunSummary } from '../harness/run-summary.js';
import { serveResults } from '../harness/serve/server.js';
import { bigTimeline } from '../harness/testing/big-timeline.js';
import { median } from './driven-vs-bare.js';

export const name = 'inspection: timeline and index pages interactive in Chromium';

const CHROMIUM = '/usr/bin/chromium';
const TRIES = 3;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Navigation start → timeline drawn → a zoom-in click redrawn (ms). */
async function timelineInteractive(
  page: Page,
  url: string,
): Promise<{ ready: number; total: number }> {
  const t0 = performance.now();
  await page.goto(url);
  await page.locator('#wr[data-ready="1"]').waitFor({ timeout: 60_000 });
  const ready = performance.now() - t0;
  const before = await page.locator('#wr').getAttribute('data-to');
  await page.locator('.wr-bar button[data-act="in"]').click();
  await page.waitForFunction(
    `document.querySelector('#wr').getAttribute('data-to') !== ${JSON.stringify(before)}`,
    undefined,
    { timeout: 60_000 },
  );
  return { ready, total: performance.now() - t0 };
}

/** A thousand finished runs over 20 test names: summary.json and test.json, what the index reads. */
function writeRuns(root: string, count: number): void {
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const verdicts = ['valid', 'valid', 'valid', 'invalid', 'unknown'] as const;
  for (let i = 0; i < count; i++) {
    const name = `test-${i % 20}`;
    const startedAt = new Date(t0 + i * 60_000).toISOString();
    const dir = join(root, name, startedAt.replaceAll(':', '-'));
    mkdirSync(dir, { recursive: true });
    const verdict = verdicts[i % verdicts.length]!;
    const summary: RunSummary = {
      summary: 1,
      name,
      startedAt,
      system: 'leaderless',
      backend: 'local',
      workload: 'register',
      nodes: 5,
      faults: ['partition', 'kill', 'pause'],
      faultsHappened: { partition: 3, kill: 2, pause: 2 },
      seed: 1000 + i,
      status: 'complete',
      verdict,
      valid: verdict === 'valid' ? true : verdict === 'invalid' ? false : 'unknown',
      reasons: verdict === 'valid' ? [] : [`the checker said ${verdict}`],
      checkers: [{ name: 'linearizability', valid: verdict === 'valid', anomalies: [] }],
      anomalies: [],
      ops: { total: 12_000 + i, ok: 9000, fail: 2500, info: 500 + i, pending: 0 },
      durationS: 45 + (i % 7),
      throughput: 250 + (i % 50),
      latencyMs: { p50: 2 + (i % 5), p90: 8, p99: 30 + (i % 11), max: 900 },
      availability: { duringFaults: 0.6 + (i % 30) / 100, outsideFaults: 0.97 },
      failoverMs: { median: 15 + (i % 9), worst: 40 + (i % 13) },
      warnings: [],
      reproduce: `faultline run --name ${name} --seed ${1000 + i}`,
    };
    writeFileSync(join(dir, FILES.summary), JSON.stringify(summary));
    writeFileSync(
      join(dir, FILES.test),
      JSON.stringify({
        startedAt,
        seed: 1000 + i,
        status: 'complete',
        verdict,
        spec: { name, system: 'leaderless', backend: 'local', nodes: 5, timeLimit: 45 },
      }),
    );
  }
}

/** Navigation start → index drawn → a search typed and the rows filtered (ms). */
async function indexInteractive(
  page: Page,
  url: string,
): Promise<{ ready: number; total: number }> {
  const t0 = performance.now();
  await page.goto(url);
  await page.locator('#shown').waitFor();
  const ready = performance.now() - t0;
  await page.locator('#q').fill('test-7 ');
  await page.waitForFunction(
    "/^\\d+ of \\d+ runs$/.test(document.querySelector('#shown').textContent)",
  );
  return { ready, total: performance.now() - t0 };
}

async function measure(
  browser: Browser,
  label: string,
  target: number,
  go: (page: Page) => Promise<{ ready: number; total: number }>,
  extra: string,
): Promise<void> {
  const ready: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < TRIES; i++) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const r = await go(page);
    ready.push(r.ready);
    total.push(r.total);
    await page.close();
  }
  const m = median(total);
  process.stdout.write(
    `${label.padEnd(34)} drawn ${sec(median(ready))}  interactive ${sec(m)} (runs ${total.map(sec).join(', ')})  target ≤ ${sec(target)}: ${m <= target ? 'met' : 'NOT met'}  ${extra}\n`,
  );
}

export async function run(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    process.stdout.write(
      `skipped: ${CHROMIUM} is missing (scripts/ensure-chromium.sh installs it)\n`,
    );
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-inspect-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    for (const [ops, target] of [
      [100_000, 2000],
      [1_000_000, 5000],
    ] as const) {
      const file = join(dir, `timeline-${ops}.html`);
      const t = performance.now();
      writeFileSync(file, bigTimeline(ops, 9));
      const written = performance.now() - t;
      await measure(
        browser,
        `timeline, ${ops.toLocaleString('en')} ops`,
        target,
        (page) => timelineInteractive(page, pathToFileURL(file).href),
        `(file ${mb(statSync(file).size)}, written in ${sec(written)})`,
      );
    }
    const root = join(dir, 'results');
    writeRuns(root, 1000);
    const server = await serveResults({ root, port: 0 });
    try {
      const t = performance.now();
      const res = await fetch(server.url);
      const html = await res.text();
      const served = performance.now() - t;
      await measure(
        browser,
        'index of 1,000 runs',
        1000,
        (page) => indexInteractive(page, server.url),
        `(page ${mb(html.length)}, first served in ${sec(served)})`,
      );
    } finally {
      await server.close();
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
