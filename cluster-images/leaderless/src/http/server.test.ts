import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, type Reply } from './reply.js';
import { createHttpServer, type LeanHttpServer, type StoreApi } from './server.js';

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

let server: LeanHttpServer;
let base: string;
beforeAll(async () => {
  server = createHttpServer({ api, maxBodyBytes: 1024, log: () => {} });
  await server.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${server.address().port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await server.close();
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

/**
 * Raw-socket conversations: what a byte stream gets back, read until the server closes the
 * connection or `answers` complete responses arrived.
 */
async function converse(pieces: Array<string | Buffer>, answers: number): Promise<string> {
  const { port } = server.address();
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let text = '';
  const complete = () => {
    let count = 0;
    let at = 0;
    for (;;) {
      const end = text.indexOf('\r\n\r\n', at);
      if (end < 0) return count;
      const head = text.slice(at, end);
      if (head.startsWith('HTTP/1.1 100 ')) {
        count++;
        at = end + 4;
        continue;
      }
      const len = /content-length: (\d+)/i.exec(head);
      if (!len) return count; // the chunked dump is only ever the last answer in these tests
      const next = end + 4 + Number(len[1]);
      if (text.length < next) return count;
      count++;
      at = next;
    }
  };
  return new Promise((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (complete() >= answers) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const p of pieces) {
        socket.write(p);
        // let each piece arrive as its own packet
        await new Promise((r) => setTimeout(r, 5));
      }
    });
  });
}

const statuses = (text: string) =>
  [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe('HTTP/1.1 framing on the wire', () => {
  it('answers pipelined requests in order on one connection', async () => {
    calls.length = 0;
    const text = await converse(
      [
        'PUT /kv/a HTTP/1.1\r\ncontent-length: 11\r\n\r\n{"value":1}' +
          'GET /kv/a HTTP/1.1\r\n\r\n' +
          'GET /nope HTTP/1.1\r\n\r\n' +
          'POST /counter/c HTTP/1.1\r\ncontent-length: 11\r\n\r\n{"delta":2}',
      ],
      4,
    );
    expect(statuses(text)).toEqual([200, 200, 404, 200]);
    expect(calls.map((c) => c[0])).toEqual(['kvPut', 'kvGet', 'counterAdd']);
  });

  it('answers a client that half-closes after sending, then closes', async () => {
    const socket = net.connect(server.address().port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.end('GET /kv/a HTTP/1.1\r\n\r\nGET /kv/b HTTP/1.1\r\n\r\n');
    await closed;
    expect(statuses(text)).toEqual([200, 200]);
  });

  it('reassembles heads and bodies split across packets', async () => {
    calls.length = 0;
    const text = await converse(
      ['PU', 'T /kv/b HTTP/1.1\r\ncontent-le', 'ngth: 11\r\n\r', '\n{"val', 'ue":2}'],
      1,
    );
    expect(statuses(text)).toEqual([200]);
    expect(calls).toEqual([['kvPut', 'b', 2, undefined, {}]]);
  });

  it('answers framing errors with a JSON 4xx and closes the connection', async () => {
    for (const [bytes, status] of [
      ['NOT HTTP\r\n\r\n', 400],
      ['GET /kv/a HTTP/3.0\r\n\r\n', 505],
      ['PUT /kv/a HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n', 411],
      ['PUT /kv/a HTTP/1.1\r\ncontent-length: 5000\r\n\r\n', 413],
      ['GET /kv/a HTTP/1.1\r\nx: 1\r\n folded\r\n\r\n', 400],
    ] as const) {
      calls.length = 0;
      const text = await converse([bytes, 'GET /kv/a HTTP/1.1\r\n\r\n'], 2);
      expect({ bytes, got: statuses(text) }).toEqual({ bytes, got: [status] });
      expect(text).toMatch(/connection: close/);
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
      expect(body).toMatchObject({ outcome: 'failed' });
      expect(calls).toEqual([]);
    }
  });

  it('keeps the connection after a 4xx about content, and closes after connection: close', async () => {
    const text = await converse(
      [
        'PUT /kv/a HTTP/1.1\r\ncontent-length: 1\r\n\r\n{' +
          'GET /kv/a HTTP/1.1\r\nconnection: close\r\n\r\n' +
          'GET /kv/a HTTP/1.1\r\n\r\n',
      ],
      3,
    );
    expect(statuses(text)).toEqual([400, 200]);
  });

  it('sends 100 Continue to a client that waits for it, then answers', async () => {
    const socket = net.connect(server.address().port, '127.0.0.1');
    let text = '';
    const seen = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(text)) {
            socket.off('data', check);
            resolve();
          }
        };
        socket.on('data', check);
        socket.once('error', reject);
        check();
      });
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    socket.write('PUT /kv/c HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 11\r\n\r\n');
    // the body goes out only once the go-ahead came, as a waiting client does
    await seen(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    socket.write('{"value":3}');
    await seen(/\{"called":"kvPut","outcome":"ok"\}$/);
    socket.destroy();
    expect(statuses(text)).toEqual([100, 200]);
  });
});

describe('idle connections', () => {
  it('closes a connection that stays silent past the idle timeout, not one that is busy', async () => {
    let release: ((r: Reply) => void) | undefined;
    const slow = createHttpServer({
      api: { ...api, kvGet: () => new Promise<Reply>((r) => (release = r)) },
      maxBodyBytes: 1024,
      log: () => {},
      idleTimeoutMs: 100,
    });
    await slow.listen(0, '127.0.0.1');
    try {
      // the busy connection's request is in the store before the idle one even connects
      const busy = net.connect(slow.address().port, '127.0.0.1');
      let busyText = '';
      busy.on('data', (d: Buffer) => {
        busyText += d.toString('latin1');
      });
      busy.write('GET /kv/a HTTP/1.1\r\n\r\n');
      await new Promise<void>((r) => {
        const check = () => (release ? r() : setTimeout(check, 10));
        check();
      });
      const idle = net.connect(slow.address().port, '127.0.0.1');
      // wait for the condition (no fixed sleep): the silent connection gets closed
      await new Promise<void>((r) => idle.on('close', () => r()));
      expect(busy.destroyed).toBe(false);
      release?.(ok({ late: true }));
      await new Promise<void>((r) => {
        const check = () => (busyText.includes('"late":true') ? r() : setTimeout(check, 10));
        check();
      });
      expect(statuses(busyText)).toEqual([200]);
      busy.destroy();
    } finally {
      slow.closeAllConnections();
      await slow.close();
    }
  }, 30_000);
});

describe('numbers JSON cannot carry exactly', () => {
  it('rejects non-finite numbers and integers beyond 2^53 - 1 with a 400 naming the number', async () => {
    calls.length = 0;
    for (const [path, body] of [
      ['/lin/l', '{"value":1e400}'],
      ['/lin/l', '{"value":[1,{"a":-1e999}]}'],
      ['/lin/l', '{"value":9007199254740993}'],
      ['/lin/l', '{"value":-9007199254740992}'],
      ['/lin/l', '{"value":1.5e300}'],
      ['/kv/k', '{"value":{"deep":[1e400]}}'],
    ] as const) {
      const res = await req('PUT', path, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(String(res.json?.error)).toMatch(/number/);
    }
    for (const body of ['{"add":1e400}', '{"remove":[9007199254740993]}']) {
      expect((await req('POST', '/set/s', body)).status).toBe(400);
    }
    expect((await req('POST', '/lin/l/cas', '{"from":1e400,"to":1}')).status).toBe(400);
    expect(calls).toEqual([]);
    for (const v of ['9007199254740991', '-9007199254740991', '0.1', '-2.5e-300', '1e15']) {
      expect((await req('PUT', '/lin/l', `{"value":${v}}`)).status).toBe(200);
    }
  });

  it('accepts values nested up to 64 deep and rejects deeper ones', async () => {
    const nested = (d: number) => '['.repeat(d) + '1' + ']'.repeat(d);
    expect((await req('PUT', '/lin/l', `{"value":${nested(64)}}`)).status).toBe(200);
    expect((await req('PUT', '/lin/l', `{"value":${nested(65)}}`)).status).toBe(400);
    const empty = (d: number) => '['.repeat(d) + ']'.repeat(d);
    expect((await req('PUT', '/lin/l', `{"value":${empty(64)}}`)).status).toBe(200);
    expect((await req('PUT', '/lin/l', `{"value":${empty(65)}}`)).status).toBe(400);
  });
});
