/**
 * What a person sees in a browser (Debian's Chromium, driven by playwright-core; no browser is
 * downloaded: scripts/ensure-chromium.sh installs it): the index and run pages of
 * `faultline serve`, and the timeline, also opened as a standalone file. Screenshots of the
 * index, a run and an anomaly are kept in .test-results/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../harness/serve/server.js';
import { serveResults } from '../harness/serve/server.js';
import { bigTimeline } from '../harness/testing/big-timeline.js';
import type { FixtureRun } from '../harness/testing/serve-fixture.js';
import { EVIL, writeFixtureRun } from '../harness/testing/serve-fixture.js';
import { ROOT } from './cli.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, '.test-results', 'screenshots');

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
/** What the tests read of elements in the page (the project's types have no DOM). */
interface Img {
  naturalWidth: number;
  getBoundingClientRect(): Box;
}
interface Select {
  selectedIndex: number;
  options: { text: string }[];
}
const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('in a browser', () => {
  let browser: Browser;
  let root: string;
  let server: RunningServer;
  let good: FixtureRun;
  let bad: FixtureRun;
  let big: string;
  const BIG_OPS = 100_000;
  const BIG_FAULTS = 9;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (as root) first`);
    }
    root = mkdtempSync(join(tmpdir(), 'faultline-browser-'));
    good = await writeFixtureRun(root, {
      name: 'register-partitions',
      folder: '2026-02-01T10-00-00.000Z',
      startedAt: '2026-02-01T10:00:00.000Z',
      ops: 3000,
      faults: 6,
      throughput: 900,
    });
    bad = await writeFixtureRun(root, {
      name: 'register-partitions',
      folder: '2026-02-02T10-00-00.000Z',
      startedAt: '2026-02-02T10:00:00.000Z',
      ops: 3000,
      faults: 3,
      anomaly: true,
      throughput: 700,
    });
    await writeFixtureRun(root, {
      name: EVIL.replaceAll('/', ''),
      folder: 'x',
      startedAt: '2026-02-03T10:00:00.000Z',
      ops: 50,
      faults: 1,
    });
    big = join(root, 'big-timeline.html');
    writeFileSync(big, bigTimeline(BIG_OPS, BIG_FAULTS));
    server = await serveResults({ root, port: 0 });
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    (page as Page & { errors?: string[] }).errors = errors;
    return page;
  }
  const runUrl = (r: FixtureRun) =>
    `${server.url}runs/${encodeURIComponent(r.name)}/${encodeURIComponent(r.folder)}/`;

  it('index: every run with its verdict, a search that filters, trends, markup shown as text', async () => {
    const page = await open(server.url);
    const rows = page.locator('#runs tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    const verdicts = await rows.locator('td:nth-child(7)').allTextContents();
    expect(verdicts.sort()).toEqual(['invalid', 'valid', 'valid']);
    await expect.poll(() => page.locator('.trend').count()).toBe(2);
    expect(await page.locator('.trend .strip a').count()).toBe(3);
    // The folder named with markup is listed as text, and nothing of it ran.
    expect(await page.locator('#runs').innerText()).toContain('<img src=x onerror=');
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.screenshot({ path: join(SHOTS, 'index.png'), fullPage: true });
    await page.fill('#q', 'partitions');
    await expect.poll(() => page.locator('#runs tbody tr:visible').count()).toBe(2);
    await page.selectOption('#verdict', 'invalid');
    await expect.poll(() => page.locator('#runs tbody tr:visible').count()).toBe(1);
    expect(await page.locator('#shown').innerText()).toBe('1 of 3 runs');
    await page.close();
  });

  it('run page: the verdict, stats, plots as wide as the page, and a fault band picks the log lines of its moment', async () => {
    const page = await open(runUrl(good));
    expect(await page.locator('#verdict').innerText()).toContain('valid: every checker decided');
    expect(await page.locator('.stats').innerText()).toContain('faults that happened');
    expect(await page.locator('#reproduce').innerText()).toContain('--seed 1234');
    const plots = page.locator('.plots object');
    expect(await plots.count()).toBe(3);
    for (const w of await plots.evaluateAll((objs) =>
      objs.map((o) => (o as unknown as Img).getBoundingClientRect().width),
    )) {
      expect(w).toBeGreaterThan(1000); // the page's width, not a fixed 900 px
    }
    // Each plot is loaded as a document of its own, so its tooltips answer a hover: the rate
    // plot's columns tell the figures of their span of time.
    await expect.poll(() => page.frames().some((f) => f.url().endsWith('/rate.svg'))).toBe(true);
    const rate = page.frames().find((f) => f.url().endsWith('/rate.svg'))!;
    const tips = rate.locator('g.hover rect title');
    await expect.poll(() => tips.count()).toBeGreaterThanOrEqual(1);
    expect(await tips.first().textContent()).toMatch(/^0\.0+–[\d.]+ s: ok \d+\/s/);
    const frame = page.frameLocator('iframe.timeline');
    await frame.locator('#wr[data-ready="1"]').waitFor();
    expect(await frame.locator('.wr-fault').count()).toBe(good.faults);
    await frame.locator('.wr-fault').nth(1).click();
    await expect.poll(() => page.locator('#logs .log').count()).toBe(3);
    const moment = good.faultStarts[1]! / 1e9;
    expect(Number(await page.inputValue('#at'))).toBeCloseTo(moment, 2);
    const text = await page.locator('#logs .log').first().innerText();
    const times = [...text.matchAll(/^\+(\d+\.\d+)s/gm)].map((m) => Number(m[1]));
    expect(times.length).toBeGreaterThan(5);
    for (const t of times) expect(Math.abs(t - moment)).toBeLessThanOrEqual(1.001);
    // Log lines with markup are shown as text.
    expect(text).toContain('<img src=x onerror=');
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.screenshot({ path: join(SHOTS, 'run.png'), fullPage: true });
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('anomaly: the key named, the view focused on it, order labels that never overlap', async () => {
    const page = await open(runUrl(bad));
    expect(await page.locator('#verdict').innerText()).toContain('invalid: an anomaly was found');
    expect(await page.locator('#anomalies').innerText()).toContain(
      'key bad is not linearizable <img src=x',
    );
    await page.close();
    const tl = await open(`${runUrl(bad)}timeline.html`);
    await tl.locator('#wr[data-ready="1"]').waitFor();
    expect(await tl.locator('h2').first().innerText()).toBe('key "bad": not linearizable');
    const labels = await tl.locator('g.step rect').evaluateAll((rs) =>
      rs.map((r) => {
        const b = r.getBoundingClientRect();
        return { x: b.x, y: b.y, width: b.width, height: b.height };
      }),
    );
    expect(labels.length).toBeGreaterThan(1);
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        expect(overlaps(labels[i]!, labels[j]!), `labels ${i} and ${j}`).toBe(false);
      }
    }
    await tl.click('button[data-act="anomaly"]');
    const key = await tl.locator('.wr-key').evaluate((s) => {
      const sel = s as unknown as Select;
      return sel.options[sel.selectedIndex]!.text;
    });
    expect(key).toBe('bad (not linearizable)');
    const range = await tl.locator('.wr-range').innerText();
    const [first, last] = [
      Number(await tl.getAttribute('#wr', 'data-first')),
      Number(await tl.getAttribute('#wr', 'data-last')),
    ];
    expect(last - first).toBeLessThan(good.ops / 4); // zoomed in around it
    expect(range).toMatch(/ops #\d+–#\d+ of \d+/);
    await tl.screenshot({ path: join(SHOTS, 'anomaly.png'), fullPage: true });
    expect((tl as Page & { errors?: string[] }).errors).toEqual([]);
    await tl.close();
  });

  it('a run in progress shows how far it has got, live', async () => {
    const live = await writeFixtureRun(root, {
      name: 'live',
      folder: 'now',
      startedAt: '2026-02-04T10:00:00.000Z',
      ops: 200,
      faults: 1,
      status: 'running',
    });
    const page = await open(runUrl(live));
    expect(await page.locator('#verdict').innerText()).toContain('still running');
    await expect
      .poll(() => page.locator('#progress').innerText())
      .toMatch(
        /^main · [\d.]+ s of a 30 s run · \d+ events · \d+ ops\/s · ok 200 · fail 0 · info 0 · faults now: partition$/,
      );
    const width = await page.locator('#bar').evaluate((e) => e.getBoundingClientRect().width);
    expect(width).toBeGreaterThan(0);
    await page.close();
  });

  it('standalone 100k-op timeline: every fault visible, and zooming reaches the last op', async () => {
    const started = Date.now();
    const page = await open(pathToFileURL(big).href);
    await page.locator('#wr[data-ready="1"]').waitFor({ timeout: 30_000 });
    process.stdout.write(`100k-op timeline interactive after ${Date.now() - started} ms\n`);
    const bands = page.locator('.wr-fault');
    expect(await bands.count()).toBe(BIG_FAULTS);
    // Each 3 ms fault of a 200 s run is drawn at least 4 px wide, inside the lane.
    const lane = (await page.locator('.wr-faults').boundingBox())!;
    for (const b of await bands.evaluateAll((els) =>
      els.map((e) => e.getBoundingClientRect().toJSON() as Box),
    )) {
      expect(b.width).toBeGreaterThanOrEqual(4);
      expect(b.x).toBeGreaterThanOrEqual(lane.x - 0.5);
      expect(b.x + b.width).toBeLessThanOrEqual(lane.x + lane.width + 0.5);
    }
    expect(await page.getAttribute('#wr', 'data-last')).toBe(String(BIG_OPS));
    // Zoom in far (each + halves the window), then go to the end.
    await page.locator('#wr').focus();
    for (let i = 0; i < 14; i++) await page.keyboard.press('+');
    await page.keyboard.press('End');
    expect(await page.getAttribute('#wr', 'data-last')).toBe(String(BIG_OPS));
    const first = Number(await page.getAttribute('#wr', 'data-first'));
    expect(BIG_OPS - first).toBeLessThan(100); // individual ops, not the whole run
    expect(await page.locator('.wr-range').innerText()).toContain(`of ${BIG_OPS}`);
    // Zoomed in this far, a fault in view is still a visible band: go to the 5th fault.
    const f5 = await page.evaluate(() => {
      const doc = (
        globalThis as unknown as {
          document: { getElementById(id: string): { textContent: string } };
        }
      ).document;
      const h = JSON.parse(doc.getElementById('wr-data').textContent) as {
        faults: { start: number }[];
      };
      return h.faults[4]!.start;
    });
    // A window of about a second, centred on it from the overview strip of the whole run.
    await page.keyboard.press('0');
    const end = Number(await page.getAttribute('#wr', 'data-to'));
    for (let i = 0; i < 8; i++) await page.keyboard.press('+');
    const ov = (await page.locator('.wr-ovc').boundingBox())!;
    await page.mouse.click(ov.x + (f5 / end) * ov.width, ov.y + 20);
    const [from, to] = [
      Number(await page.getAttribute('#wr', 'data-from')),
      Number(await page.getAttribute('#wr', 'data-to')),
    ];
    expect(to - from).toBeLessThan(end / 200);
    expect(f5).toBeGreaterThan(from);
    expect(f5).toBeLessThan(to);
    const inView = page.locator('.wr-fault');
    expect(await inView.count()).toBeGreaterThanOrEqual(1);
    const w = await inView.first().evaluate((e) => e.getBoundingClientRect().width);
    expect(w).toBeGreaterThanOrEqual(4);
    await page.locator('.wr-fault').first().click();
    expect(await page.locator('.wr-detail').innerText()).toContain('kill');
    await page.screenshot({ path: join(SHOTS, 'timeline-100k-zoomed.png'), fullPage: true });
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    await page.close();
  });
});
