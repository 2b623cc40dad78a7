/**
 * The client port's resource bounds: a connection cap, a budget for request bytes held in memory
 * (reserved by content-length before a body is read), and a read deadline for a started request.
 * Each test checks that a misbehaving client is refused or closed while well-behaved requests are
 * still served.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ok, type Reply } from './reply.js';
import type { StoreApi } from './server.js';
import { createHttpServer, type HttpServerOptions, type LeanHttpServer } from './server.js';

const answer = async (): Promise<Reply> => ok({ done: true });
const api: StoreApi = {
  n: 3,
  kvGet: answer,
  kvPut: answer,
  kvDelete: answer,
  setGet: answer,
  setAdd: answer,
  setRemove: answer,
  counterGet: answer,
  counterAdd: answer,
  linGet: answer,
  linPut: answer,
  linCas: answer,
  status: () => ({ id: 'n1' }),
  replicaDump: () => [],
};

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(
  opts: Partial<HttpServerOptions>,
): Promise<{ server: LeanHttpServer; port: number }> {
  const server = createHttpServer({ api, maxBodyBytes: 8192, log: () => {}, ...opts });
  await server.listen(0, '127.0.0.1');
  cleanups.push(async () => {
    server.closeAllConnections();
    await server.close();
  });
  return { server, port: server.address().port };
}

interface Raw {
  socket: net.Socket;
  /** Everything received so far. */
  text(): string;
  closed: Promise<void>;
}

async function raw(port: number): Promise<Raw> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let received = '';
  socket.on('data', (d: Buffer) => {
    received += d.toString('latin1');
  });
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  cleanups.push(() => socket.destroy());
  await new Promise<void>((r) => socket.once('connect', () => r()));
  return { socket, text: () => received, closed };
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const head = (length: number) =>
  `PUT /kv/k HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;
/** A JSON body of exactly `length` bytes. */
const body = (length: number) => `{"value":"${'x'.repeat(length - 12)}"}`;

describe('client port limits', () => {
  it('refuses connections beyond maxConnections with 503 and keeps serving the others', async () => {
    const { server, port } = await serve({ maxConnections: 4 });
    const held = await Promise.all([1, 2, 3, 4].map(() => raw(port)));
    await waitFor(() => server.stats().connections === 4);
    const extra = await raw(port);
    await extra.closed;
    expect(extra.text()).toMatch(/^HTTP\/1\.1 503 /);
    expect(extra.text()).toMatch(/too many connections/);
    held[0]!.socket.write('GET /kv/k HTTP/1.1\r\nhost: x\r\n\r\n');
    await waitFor(() => held[0]!.text().includes('"done":true'));
    expect(held[0]!.text()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('holds at most maxBufferedBytes of request bodies: beyond it 503, small requests still served', async () => {
    const budget = 20_000;
    const { server, port } = await serve({ maxBufferedBytes: budget, maxBodyBytes: 8000 });
    // 30 clients each send a head for 8000 bytes and all but the last byte of the body.
    const clients = await Promise.all(Array.from({ length: 30 }, () => raw(port)));
    for (const c of clients) c.socket.write(head(8000) + body(8000).slice(0, -1));
    const refused = () => clients.filter((c) => c.text().startsWith('HTTP/1.1 503 '));
    // Exactly two bodies fit the budget; the other 28 are refused without being read.
    await waitFor(() => refused().length === 28);
    expect(server.stats().bufferedBytes).toBeLessThanOrEqual(budget);
    expect(server.stats().bufferedBytes).toBeGreaterThanOrEqual(2 * 7999);
    for (const c of refused()) {
      await c.closed;
      expect(c.text()).toMatch(/"outcome":"failed"/);
    }
    // A request without a body needs no budget and is served meanwhile.
    const small = await raw(port);
    small.socket.write('GET /kv/k HTTP/1.1\r\nhost: x\r\n\r\n');
    await waitFor(() => small.text().includes('"done":true'));
    // The two admitted clients finish their bodies, get their answers and release the budget.
    const admitted = clients.filter((c) => c.text() === '');
    expect(admitted).toHaveLength(2);
    for (const c of admitted) c.socket.write(body(8000).slice(-1));
    await waitFor(() => admitted.every((c) => c.text().includes('"done":true')));
    await waitFor(() => server.stats().bufferedBytes === 0);
  });

  it('closes a request whose bytes stop arriving before readTimeoutMs with a 408', async () => {
    const { port } = await serve({ readTimeoutMs: 200 });
    const slow = await raw(port);
    slow.socket.write(head(100) + body(100).slice(0, 50));
    const idle = await raw(port); // a connection with no request in progress is left alone
    await slow.closed;
    expect(slow.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(idle.socket.destroyed).toBe(false);
    idle.socket.write('GET /kv/k HTTP/1.1\r\nhost: x\r\n\r\n');
    await waitFor(() => idle.text().includes('"done":true'));
  });
});
