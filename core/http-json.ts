import http from 'node:http';
import type { HostPort } from './cluster.js';

export interface JsonResponse {
  status: number;
  body: unknown;
}

/** A non-2xx answer; `code` is `http-<status>` so error registries can match it. */
export class HttpStatusError extends Error {
  readonly code: string;
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const detail = (body as { error?: unknown } | null)?.error;
    super(`HTTP ${status}${typeof detail === 'string' ? `: ${detail}` : ''}`);
    this.name = 'HttpStatusError';
    this.code = `http-${status}`;
  }
}

/**
 * An HttpStatusError without a stack trace: a status is an answer (a failed cas is a 409), not a
 * bug to locate, and capturing the stack costs more than the rest of the op's client work.
 */
function statusError(status: number, body: unknown): HttpStatusError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new HttpStatusError(status, body);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * JSON over HTTP/1.1 keep-alive with node:http (measured faster than the built-in fetch for
 * small requests; see bench/harness.bench.ts). One agent per worker keeps one warm socket.
 */
export class HttpJsonClient {
  readonly agent: http.Agent;
  constructor(
    readonly address: HostPort,
    agent?: http.Agent,
  ) {
    this.agent = agent ?? new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  request(
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<JsonResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const options: http.RequestOptions = {
        agent: this.agent,
        host: this.address.host,
        port: this.address.port,
        method,
        path,
        headers,
      };
      if (signal !== undefined) options.signal = signal;
      const req = http.request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** `request`, throwing HttpStatusError for any status other than 2xx. */
  async call(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const r = await this.request(method, path, body, signal);
    if (r.status < 200 || r.status > 299) throw statusError(r.status, r.body);
    return r.body;
  }

  close(): void {
    this.agent.destroy();
  }
}
