import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FixtureRun } from '../testing/serve-fixture.js';
import { EVIL, writeFixtureRun } from '../testing/serve-fixture.js';
import { listRuns } from './runs.js';
import type { RunningServer } from './server.js';
import { pathNames, serveResults } from './server.js';

/** A raw request: the path goes out exactly as written (no client-side normalising). */
function get(
  base: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('faultline serve', () => {
  let root: string;
  let server: RunningServer;
  let good: FixtureRun;
  let bad: FixtureRun;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'faultline-serve-'));
    good = await writeFixtureRun(root, {
      name: 'reg',
      folder: '2026-01-01T00-00-00.000Z',
      startedAt: '2026-01-01T00:00:00.000Z',
      ops: 400,
      faults: 4,
    });
    bad = await writeFixtureRun(root, {
      name: 'reg',
      folder: '2026-01-02T00-00-00.000Z',
      startedAt: '2026-01-02T00:00:00.000Z',
      ops: 400,
      faults: 2,
      anomaly: true,
    });
    // A folder whose very name is markup, and a secret next to the results folder.
    await writeFixtureRun(root, {
      name: EVIL.replaceAll('/', ''),
      folder: 'f',
      startedAt: '2026-01-03T00:00:00.000Z',
      ops: 20,
      faults: 1,
    });
    writeFileSync(join(root, '..', 'faultline-serve-secret.txt'), 'secret');
    mkdirSync(join(root, 'reg', 'linked'), { recursive: true });
    symlinkSync(join(root, '..'), join(root, 'reg', good.folder, 'escape'));
    server = await serveResults({ root, port: 0 });
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(join(root, '..', 'faultline-serve-secret.txt'), { force: true });
  });

  it('listens on 127.0.0.1 unless told otherwise', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('lists every run, newest first, with its verdict', async () => {
    const runs = listRuns(root);
    expect(runs.map((r) => [r.folder, r.verdict])).toEqual([
      ['f', 'valid'],
      [bad.folder, 'invalid'],
      [good.folder, 'valid'],
    ]);
    const index = await get(server.url, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain(`href="/runs/reg/${encodeURIComponent(bad.folder)}/"`);
    expect(index.body).toContain('<span class="badge v-invalid">invalid</span>');
    expect(index.body).toContain('Trends per test');
    expect(index.body).toContain('data-measure="throughput"');
  });

  it('escapes markup from folder names, histories and logs', async () => {
    const index = await get(server.url, '/');
    expect(index.body).not.toContain('<img src=x');
    expect(index.body).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;');
    const page = await get(server.url, `/runs/reg/${bad.folder}/`);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).toContain('key bad is not linearizable &lt;img');
    const logs = await get(server.url, `/runs/reg/${bad.folder}/api/logs?q=onerror`);
    const parsed = JSON.parse(logs.body) as { nodes: { lines: { text: string }[] }[] };
    expect(parsed.nodes).toHaveLength(3);
    expect(parsed.nodes[0]!.lines[0]!.text).toContain(EVIL); // JSON, drawn with textContent
    expect(logs.headers['content-type']).toMatch(/^application\/json/);
  });

  it('refuses paths outside the results folder, plain, encoded and through a link', async () => {
    for (const path of [
      '/runs/reg/../../etc/passwd',
      `/runs/reg/${good.folder}/../../../faultline-serve-secret.txt`,
      `/runs/reg/${good.folder}/%2e%2e/%2e%2e/%2e%2e/faultline-serve-secret.txt`,
      `/runs/reg/${good.folder}/..%2f..%2f..%2ffaultline-serve-secret.txt`,
      `/runs/reg/${good.folder}/%2E%2E%5C%2E%2E%5Cx`,
      '/runs/%2e%2e/x/',
    ]) {
      const r = await get(server.url, path);
      expect(r.status, path).toBe(403);
      expect(r.body).not.toContain('secret');
    }
    const link = await get(
      server.url,
      `/runs/reg/${good.folder}/escape/faultline-serve-secret.txt`,
    );
    expect(link.status).toBe(403);
    expect(link.body).not.toContain('secret');
    expect(() => pathNames('/a/%2e%2e/b')).toThrow(/outside/);
    expect(pathNames('/runs/a%20b/c/')).toEqual(['runs', 'a b', 'c']);
  });

  it('is read-only: GET and HEAD only', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await get(server.url, `/runs/reg/${good.folder}/history.jsonl`, method);
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
    const head = await get(server.url, `/runs/reg/${good.folder}/history.jsonl`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('serves the files of a run: the history to download, plots, timeline, logs', async () => {
    const h = await get(server.url, `/runs/reg/${good.folder}/history.jsonl`);
    expect(h.status).toBe(200);
    expect(h.headers['content-disposition']).toMatch(/attachment/);
    expect(h.body.split('\n').filter(Boolean).length).toBeGreaterThan(800);
    const svg = await get(server.url, `/runs/reg/${good.folder}/latency-percentiles.svg`);
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    // Shown as <object>s, the plots are documents: no script may run in one.
    expect(svg.headers['content-security-policy']).toMatch(
      /^default-src 'none'; style-src 'unsafe-inline'$/,
    );
    const log = await get(server.url, `/runs/reg/${good.folder}/nodes/n1/stdout.log`);
    expect(log.headers['content-type']).toMatch(/^text\/plain/);
    expect(log.headers['x-content-type-options']).toBe('nosniff');
    expect((await get(server.url, `/runs/reg/${good.folder}/nope.txt`)).status).toBe(404);
    expect((await get(server.url, '/runs/reg/no-such-run/')).status).toBe(404);
  });

  it('lines the node logs up with the history: a moment gives each node its lines around it', async () => {
    const at = good.faultStarts[1]! / 1e9;
    const r = await get(server.url, `/runs/reg/${good.folder}/api/logs?at=${at}&window=0.15`);
    const body = JSON.parse(r.body) as { nodes: { node: string; lines: { t: number }[] }[] };
    expect(body.nodes.map((n) => n.node)).toEqual(['n1', 'n2', 'n3']);
    for (const n of body.nodes) {
      expect(n.lines.length).toBeGreaterThanOrEqual(2);
      expect(n.lines.length).toBeLessThanOrEqual(4);
      for (const l of n.lines) expect(Math.abs(l.t - at)).toBeLessThanOrEqual(0.15);
    }
    expect((await get(server.url, `/runs/reg/${good.folder}/api/logs?at=abc`)).status).toBe(400);
  });

  it('shows a run in progress with its progress from the history so far', async () => {
    const live = await writeFixtureRun(root, {
      name: 'live',
      folder: 'now',
      startedAt: '2026-01-04T00:00:00.000Z',
      ops: 100,
      faults: 1,
      status: 'running',
    });
    const page = await get(server.url, `/runs/live/${live.folder}/`);
    expect(page.body).toContain('In progress');
    // One badge says so (a verdict badge would only repeat "running").
    expect(page.body.match(/<span class="badge [^"]*">running<\/span>/g)).toHaveLength(1);
    expect(page.body).toContain("fetch('api/progress')");
    const p = JSON.parse((await get(server.url, `/runs/live/${live.folder}/api/progress`)).body);
    expect(p).toMatchObject({ status: 'running', timeLimitS: 30 });
    expect(p.events).toBeGreaterThan(200);
    expect(p.elapsedS).toBeGreaterThan(0);
    expect(p.report).toMatchObject({ phase: 'main', ok: 100, faults: 'partition' });
  });
});
