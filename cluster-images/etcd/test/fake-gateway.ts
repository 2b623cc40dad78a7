import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from '../../../core/cluster.js';

/** What the fake gateway does with one request: a status and a JSON body, or a dropped socket. */
export type Answer = { status: number; body?: unknown } | 'reset';

export interface Seen {
  path: string;
  body: Record<string, unknown>;
}

export interface FakeGateway {
  address: HostPort;
  /** Every request so far, in order (the tests reset it). */
  seen: Seen[];
  close(): Promise<void>;
}

/**
 * A small HTTP server on loopback answering like etcd 3.4's v3 JSON gateway, as `answer` tells
 * it to: each request's JSON body is parsed and recorded, then answered or its socket dropped.
 */
export async function fakeGateway(
  answer: (path: string, body: Record<string, unknown>) => Answer,
): Promise<FakeGateway> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
      const path = req.url ?? '';
      seen.push({ path, body });
      const a = answer(path, body);
      if (a === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body === undefined ? '' : JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
