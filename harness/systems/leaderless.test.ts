import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpTimeout } from '../client.js';
import { HttpStatusError } from '../http-json.js';
import { leaderlessErrors, leaderlessLinClient, leaderlessRecipe } from './leaderless.js';

describe('leaderless recipe', () => {
  it('launches node.js on the bundle with the flags, peers and settings', () => {
    const launch = leaderlessRecipe('/x/leaderless.js').launch({
      node: 'n1',
      listen: { host: '127.0.0.1', port: 1001 },
      peerListen: { host: '127.0.0.1', port: 2001 },
      peers: { n2: { host: '127.0.0.1', port: 3002 }, n3: { host: '::1', port: 3003 } },
      dataDir: '/data/n1',
      settings: { r: '1', fsync: 'never' },
    });
    expect(launch.command).toBe(process.execPath);
    expect(launch.args).toEqual([
      '/x/leaderless.js',
      '--id',
      'n1',
      '--listen',
      '127.0.0.1:1001',
      '--peer-listen',
      '127.0.0.1:2001',
      '--peers',
      'n2=127.0.0.1:3002,n3=[::1]:3003,n1=127.0.0.1:2001',
      '--data-dir',
      '/data/n1',
      '--r',
      '1',
      '--fsync',
      'never',
    ]);
  });
});

describe('leaderless error classification', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  it('4xx and refused connections are definite; 5xx, resets, timeouts and the unknown are not', () => {
    expect(
      leaderlessErrors.classify(new HttpStatusError(409, { error: 'precondition' })).type,
    ).toBe('fail');
    expect(leaderlessErrors.classify(new HttpStatusError(412, {})).type).toBe('fail');
    expect(leaderlessErrors.classify(new HttpStatusError(400, {})).type).toBe('fail');
    expect(leaderlessErrors.classify(err('ECONNREFUSED')).type).toBe('fail');
    expect(leaderlessErrors.classify(new HttpStatusError(503, {})).type).toBe('info');
    expect(leaderlessErrors.classify(new HttpStatusError(500, {})).type).toBe('info');
    expect(leaderlessErrors.classify(err('ECONNRESET')).type).toBe('info');
    expect(leaderlessErrors.classify(new Error('anything else'))).toEqual({
      type: 'info',
      error: 'anything else',
    });
    expect(leaderlessErrors.classify(new OpTimeout(100))).toEqual({
      type: 'info',
      error: 'timeout',
    });
  });
});

describe('leaderless lin client', () => {
  let server: http.Server;
  let port = 0;
  const store = new Map<string, unknown>();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const m = /^\/lin\/([^/]+)(\/cas)?$/.exec(req.url ?? '');
        const key = decodeURIComponent(m?.[1] ?? '');
        const reply = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        if (key === 'down') return reply(503, { error: 'no quorum', outcome: 'unknown' });
        if (req.method === 'GET') return reply(200, { value: store.get(key) ?? null });
        const b = JSON.parse(body) as { value?: unknown; from?: unknown; to?: unknown };
        if (m?.[2]) {
          if (JSON.stringify(store.get(key) ?? null) !== JSON.stringify(b.from)) {
            return reply(409, { error: 'precondition failed', outcome: 'failed' });
          }
          store.set(key, b.to);
          return reply(200, {});
        }
        store.set(key, b.value);
        return reply(200, {});
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reads, writes and cas over keep-alive HTTP; errors carry their status', async () => {
    const c = leaderlessLinClient.open('n1', { host: '127.0.0.1', port });
    const sig = new AbortController().signal;
    expect(await c.invoke({ f: 'read', key: 'a' }, sig)).toEqual({ value: null });
    await c.invoke({ f: 'write', key: 'a', value: 3 }, sig);
    expect(await c.invoke({ f: 'read', key: 'a' }, sig)).toEqual({ value: 3 });
    await c.invoke({ f: 'cas', key: 'a', value: [3, 4] }, sig);
    const e409 = await c
      .invoke({ f: 'cas', key: 'a', value: [3, 5] }, sig)
      .catch((e: unknown) => e);
    expect(leaderlessErrors.classify(e409)).toMatchObject({ type: 'fail' });
    const e503 = await c.invoke({ f: 'read', key: 'down' }, sig).catch((e: unknown) => e);
    expect(leaderlessErrors.classify(e503)).toMatchObject({ type: 'info' });
    expect(await c.invoke({ f: 'read', key: 'a' }, sig)).toEqual({ value: 4 });
    await c.close();
  });
});
