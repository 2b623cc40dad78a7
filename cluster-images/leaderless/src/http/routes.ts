/**
 * Routing of client requests: parses and validates the target, query parameters and JSON body,
 * and hands the request to the StoreApi. Bad input throws HttpError with a 4xx JSON answer and
 * never reaches the store. Independent of the HTTP server that carries the bytes.
 */
import type { z } from 'zod';
import { failed, type Json, type Reply } from './reply.js';
import {
  counterBody,
  describeZodError,
  kvDeleteBody,
  kvPutBody,
  linCasBody,
  linPutBody,
  membershipChangeBody,
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
  /** Runtime membership (absent: the admin membership routes answer 404). */
  membershipAdmin?: MembershipAdminApi;
  /** Records this node stores, one JSON value each (for /admin/replica). */
  replicaDump(): Iterable<Json>;
  readonly n: number;
}

/** `GET /admin/membership`, `POST /admin/join`, `POST /admin/leave`. */
export interface MembershipAdminApi {
  view(): Json;
  join(node: string): Reply;
  leave(node: string): Reply;
}

export class HttpError extends Error {
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

/** Routes one request; bad input throws HttpError (answered with its 4xx). */
export async function route(
  api: StoreApi,
  method: string,
  url: Target,
  body: Buffer | undefined,
): Promise<Reply> {
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
    const admin = api.membershipAdmin;
    if (admin && rawKey === 'membership') {
      return method === 'GET' ? { status: 200, body: admin.view() } : methodNotAllowed('GET');
    }
    if (admin && (rawKey === 'join' || rawKey === 'leave')) {
      if (method !== 'POST') return methodNotAllowed('POST');
      const { node } = parseBody(body, membershipChangeBody);
      return rawKey === 'join' ? admin.join(node) : admin.leave(node);
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

/** The parts of a request target the routes use (cheaper than new URL() on the hot path). */
export interface Target {
  pathname: string;
  searchParams: URLSearchParams;
}
const NO_PARAMS = new URLSearchParams();

export function parseUrl(raw: string): Target {
  const q = raw.indexOf('?');
  if (q < 0) return { pathname: raw, searchParams: NO_PARAMS };
  return { pathname: raw.slice(0, q), searchParams: new URLSearchParams(raw.slice(q + 1)) };
}
