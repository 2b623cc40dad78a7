import type http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, type Reply } from './reply.js';
import { createHttpServer, type StoreApi } from './server.js';

const calls: unknown[][] = [];
const record =
  (name: string) =>
  async (...args: unknown[]): Promise<Reply> => {
    calls.push([name, ...args]);
    return ok({ called: name });
  };

const api: StoreApi = {
  n: 3,
  kvGet: record('kvGet'),
  kvPut: record('kvPut'),
  kvDelete: record('kvDelete'),
  setGet: record('setGet'),
  setAdd: record('setAdd'),
  setRemove: record('setRemove'),
  counterGet: record('counterGet'),
  counterAdd: record('counterAdd'),
  linGet: record('linGet'),
  linPut: record('linPut'),
  linCas: record('linCas'),
  status: () => ({ id: 'n1' }),
  replicaDump: () => [{ key: 'a' }, { key: 'b' }],
};

let server: http.Server;
let base: string;
beforeAll(async () => {
  server = createHttpServer({ api, maxBodyBytes: 1024, log: () => {} });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function req(method: string, path: string, body?: string) {
  const init: RequestInit = { method };
  if (body !== undefined) init.body = body;
  const res = await fetch(base + path, init);
  const text = await res.text();
  const isJson = res.headers.get('content-type') === 'application/json';
  return {
    status: res.status,
    text,
    json: isJson ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

describe('HTTP routes', () => {
  it('dispatches valid requests with decoded keys, bodies and quorum parameters', async () => {
    calls.length = 0;
    expect((await req('PUT', '/kv/a%2Fb?w=3', '{"value":{"x":[1]},"context":"c1"}')).status).toBe(
      200,
    );
    expect((await req('GET', '/kv/k?r=1')).json).toMatchObject({ called: 'kvGet', outcome: 'ok' });
    await req('DELETE', '/kv/k');
    await req('POST', '/set/s', '{"add":5}');
    await req('POST', '/set/s', '{"remove":"x"}');
    await req('POST', '/counter/c', '{"delta":-3}');
    await req('PUT', '/lin/l', '{"value":null}');
    await req('POST', '/lin/l/cas', '{"from":1,"to":2}');
    await req('GET', '/lin/l');
    expect(calls).toEqual([
      ['kvPut', 'a/b', { x: [1] }, 'c1', { w: 3 }],
      ['kvGet', 'k', { r: 1 }],
      ['kvDelete', 'k', undefined, {}],
      ['setAdd', 's', 5, {}],
      ['setRemove', 's', 'x', {}],
      ['counterAdd', 'c', -3, {}],
      ['linPut', 'l', null],
      ['linCas', 'l', 1, 2],
      ['linGet', 'l'],
    ]);
  });

  it('answers bad input with a 4xx JSON error and never reaches the store', async () => {
    calls.length = 0;
    const cases: Array<[string, string, string | undefined, number]> = [
      ['PUT', '/kv/k', '{"value":', 400],
      ['PUT', '/kv/k', '{}', 400],
      ['PUT', '/kv/k', '', 400],
      ['PUT', '/kv/k', '{"value":1,"extra":2}', 400],
      ['PUT', '/kv/k', '{"value":1,"context":5}', 400],
      ['PUT', '/kv/k?w=0', '{"value":1}', 400],
      ['PUT', '/kv/k?w=4', '{"value":1}', 400],
      ['GET', '/kv/k?r=x', undefined, 400],
      ['GET', '/kv/%E0%A4%A', undefined, 400],
      ['POST', '/counter/c', '{"delta":1.5}', 400],
      ['POST', '/counter/c', '{"delta":"1"}', 400],
      ['POST', '/set/s', '{"add":1,"remove":2}', 400],
      ['POST', '/lin/l/cas', '{"from":1}', 400],
      ['PUT', '/kv/k', '{"value":' + '['.repeat(100) + ']'.repeat(100) + '}', 400],
      ['PUT', '/kv/k', JSON.stringify({ value: 'x'.repeat(2000) }), 413],
      ['GET', '/nope', undefined, 404],
      ['GET', '/kv', undefined, 404],
      ['GET', '/kv/a/b', undefined, 404],
      ['GET', '/admin/other', undefined, 404],
      ['POST', '/kv/k', '{"value":1}', 405],
      ['DELETE', '/lin/k', undefined, 405],
      ['GET', '/lin/k/cas', undefined, 405],
    ];
    for (const [method, path, body, status] of cases) {
      const res = await req(method, path, body);
      expect({ method, path, status: res.status }).toEqual({ method, path, status });
      expect(res.json).toMatchObject({ outcome: 'failed' });
      expect(typeof res.json?.error).toBe('string');
    }
    expect(calls).toEqual([]);
  });

  it('serves status and streams the replica dump as JSON lines', async () => {
    expect((await req('GET', '/admin/status')).json).toEqual({ id: 'n1' });
    const dump = await req('GET', '/admin/replica');
    expect(
      dump.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ key: 'a' }, { key: 'b' }]);
  });
});
