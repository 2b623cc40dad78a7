/**
 * The client-facing HTTP/1.1 server (node:http, keep-alive). It parses and validates requests,
 * hands them to the StoreApi and writes JSON answers; bad input is answered with a 4xx JSON error
 * and never reaches the store.
 */
import http from 'node:http';
import type { z } from 'zod';
import { failed, type Json, type Reply, unknown } from './reply.js';
import {
  counterBody,
  describeZodError,
  kvDeleteBody,
  kvPutBody,
  linCasBody,
  linPutBody,
  setBody,
} from './schemas.js';

export interface Quorum {
  r?: number;
  w?: number;
}

/** What the HTTP layer needs from the node; every call resolves to a Reply, never rejects. */
export interface StoreApi {
  kvGet(key: string, q: Quorum): Promise<Reply>;
  kvPut(key: string, value: Json, context: string | undefined, q: Quorum): Promise<Reply>;
  kvDelete(key: string, context: string | undefined, q: Quorum): Promise<Reply>;
  setGet(key: string, q: Quorum): Promise<Reply>;
  setAdd(key: string, element: Json, q: Quorum): Promise<Reply>;
  setRemove(key: string, element: Json, q: Quorum): Promise<Reply>;
  counterGet(key: string, q: Quorum): Promise<Reply>;
  counterAdd(key: string, delta: number, q: Quorum): Promise<Reply>;
  linGet(key: string): Promise<Reply>;
  linPut(key: string, value: Json): Promise<Reply>;
  linCas(key: string, from: Json, to: Json): Promise<Reply>;
  status(): Json;
  /** Records this node stores, one JSON value each (for /admin/replica). */
  replicaDump(): Iterable<Json>;
  readonly n: number;
}

class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(String((reply.body as { error?: string }).error));
  }
}

const bad = (msg: string) => new HttpError(failed(400, msg));

function parseBody<T>(raw: Buffer | undefined, schema: z.ZodType<T>, optional = false): T {
  let value: unknown = {};
  if (raw && raw.length > 0) {
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      throw bad('body is not valid JSON');
    }
  } else if (!optional) {
    throw bad('a JSON body is required');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw bad(describeZodError(parsed.error));
  return parsed.data;
}

function quorumParam(url: Target, name: 'r' | 'w', n: number): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > n) {
    throw bad(`query parameter ${name}=${JSON.stringify(v)}: want an integer from 1 to ${n}`);
  }
  return Number(v);
}

function decodeKey(raw: string): string {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw bad('the key is not valid percent-encoding');
  }
  if (key.length === 0 || key.length > 1024) throw bad('keys are 1 to 1024 characters');
  return key;
}

export interface HttpServerOptions {
  api: StoreApi;
  maxBodyBytes: number;
  log: (level: 'debug' | 'info' | 'warn', line: string) => void;
}

export function createHttpServer(opts: HttpServerOptions): http.Server {
  const { api } = opts;
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      opts.log(
        'warn',
        `http ${req.method} ${req.url}: ${e instanceof Error ? e.stack : String(e)}`,
      );
      send(res, unknown(`internal error: ${e instanceof Error ? e.message : String(e)}`, 500));
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      const url = parseUrl(req.url ?? '/');
      const method = req.method ?? 'GET';
      if (url.pathname === '/admin/replica' && method === 'GET') {
        streamReplica(res);
        return;
      }
      const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
      reply = await route(method, url, body);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      reply = e.reply;
    }
    send(res, reply);
  }

  function readBody(req: http.IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > opts.maxBodyBytes) {
        reject(new HttpError(failed(413, `body larger than ${opts.maxBodyBytes} bytes`)));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > opts.maxBodyBytes) {
          req.removeAllListeners('data');
          reject(new HttpError(failed(413, `body larger than ${opts.maxBodyBytes} bytes`)));
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  async function route(method: string, url: Target, body: Buffer | undefined): Promise<Reply> {
    const parts = url.pathname.split('/');
    // parts[0] is '' (leading slash)
    const [, kind, rawKey, extra, ...rest] = parts;
    if (rest.length > 0) return failed(404, `no route ${url.pathname}`);
    const methodNotAllowed = (allowed: string) =>
      failed(405, `${method} not allowed on ${url.pathname} (allowed: ${allowed})`);

    if (kind === 'admin' && extra === undefined) {
      if (rawKey === 'status') {
        return method === 'GET' ? { status: 200, body: api.status() } : methodNotAllowed('GET');
      }
      return failed(404, `no route ${url.pathname}`);
    }
    if (rawKey === undefined || (extra !== undefined && !(kind === 'lin' && extra === 'cas'))) {
      return failed(404, `no route ${url.pathname}`);
    }
    if (kind !== 'kv' && kind !== 'set' && kind !== 'counter' && kind !== 'lin') {
      return failed(404, `no route ${url.pathname}`);
    }
    const key = decodeKey(rawKey);
    const q: Quorum = {};
    const r = quorumParam(url, 'r', api.n);
    const w = quorumParam(url, 'w', api.n);
    if (r !== undefined) q.r = r;
    if (w !== undefined) q.w = w;

    switch (kind) {
      case 'kv':
        if (method === 'GET') return api.kvGet(key, q);
        if (method === 'PUT') {
          const b = parseBody(body, kvPutBody);
          return api.kvPut(key, b.value, b.context, q);
        }
        if (method === 'DELETE') {
          const b = parseBody(body, kvDeleteBody, true);
          return api.kvDelete(key, b.context ?? url.searchParams.get('context') ?? undefined, q);
        }
        return methodNotAllowed('GET, PUT, DELETE');
      case 'set':
        if (method === 'GET') return api.setGet(key, q);
        if (method === 'POST') {
          const b = parseBody(body, setBody);
          return 'add' in b ? api.setAdd(key, b.add, q) : api.setRemove(key, b.remove, q);
        }
        return methodNotAllowed('GET, POST');
      case 'counter':
        if (method === 'GET') return api.counterGet(key, q);
        if (method === 'POST') return api.counterAdd(key, parseBody(body, counterBody).delta, q);
        return methodNotAllowed('GET, POST');
      case 'lin':
        if (extra === 'cas') {
          if (method !== 'POST') return methodNotAllowed('POST');
          const b = parseBody(body, linCasBody);
          return api.linCas(key, b.from, b.to);
        }
        if (method === 'GET') return api.linGet(key);
        if (method === 'PUT') return api.linPut(key, parseBody(body, linPutBody).value);
        return methodNotAllowed('GET, PUT');
    }
  }

  function streamReplica(res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const it = api.replicaDump()[Symbol.iterator]();
    const pump = () => {
      for (;;) {
        const next = it.next();
        if (next.done) {
          res.end();
          return;
        }
        if (!res.write(JSON.stringify(next.value) + '\n')) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  }

  return server;
}

/** The parts of a request target the routes use (cheaper than new URL() on the hot path). */
interface Target {
  pathname: string;
  searchParams: URLSearchParams;
}
const NO_PARAMS = new URLSearchParams();

function parseUrl(raw: string): Target {
  const q = raw.indexOf('?');
  if (q < 0) return { pathname: raw, searchParams: NO_PARAMS };
  return { pathname: raw.slice(0, q), searchParams: new URLSearchParams(raw.slice(q + 1)) };
}

function send(res: http.ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const payload = JSON.stringify(reply.body);
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  };
  // After refusing an oversized body we stop reading it, so the connection cannot be reused.
  if (reply.status === 413) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(payload);
}
