import { createReadStream, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, sep } from 'node:path';
import { z } from 'zod';
import { FILES } from '../results-folder.js';
import { queryLogs } from './logs.js';
import { indexPage, notFoundPage, runPage } from './pages.js';
import { listRuns, liveProgress, readRun, safeName } from './runs.js';

/**
 * `faultline serve`: a read-only web server over a results folder. GET and HEAD only; a path is
 * taken apart into names before anything is looked up, and one with `.`, `..` or a separator in
 * a name (encoded or not) is refused, as is any file whose real path leaves the folder.
 */

export interface ServeOptions {
  root: string;
  host?: string;
  port?: number;
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.png': 'image/png',
};

const HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'; form-action 'none'",
};

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The path's names, decoded; refuses `.`, `..` and names holding a separator or NUL. */
export function pathNames(rawUrl: string): string[] {
  const path = rawUrl.split(/[?#]/, 1)[0] ?? '/';
  if (!path.startsWith('/')) throw new Refused(400, 'bad path');
  const names = path.slice(1).split('/');
  if (names.at(-1) === '') names.pop(); // a trailing slash
  return names.map((raw) => {
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      throw new Refused(400, 'bad path encoding');
    }
    if (!safeName(name)) throw new Refused(403, 'refused: a path outside the results folder');
    return name;
  });
}

const logQuerySchema = z.object({
  at: z.coerce.number().finite().optional(),
  window: z.coerce.number().finite().positive().max(3600).optional(),
  q: z.string().max(200).optional(),
});

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...HEADERS,
    'Content-Type': type,
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const json = (req: IncomingMessage, res: ServerResponse, value: unknown) =>
  send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(value));

/** A file of a run folder, if its real path stays inside the results folder. */
function sendFile(req: IncomingMessage, res: ServerResponse, rootReal: string, file: string): void {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    throw new Refused(404, 'no such file');
  }
  if (!real.startsWith(rootReal + sep))
    throw new Refused(403, 'refused: outside the results folder');
  const st = statSync(real);
  if (!st.isFile()) throw new Refused(404, 'not a file');
  const ext = extname(real).toLowerCase();
  const headers: Record<string, string> = {
    ...HEADERS,
    'Content-Type': TYPES[ext] ?? 'application/octet-stream',
    'Content-Length': String(st.size),
    'Cache-Control': 'no-cache',
  };
  // A plot is a picture: no script runs in it, even when shown as an <object>.
  if (ext === '.svg')
    headers['Content-Security-Policy'] = "default-src 'none'; style-src 'unsafe-inline'";
  if (ext === '.jsonl') headers['Content-Disposition'] = `attachment; filename="${FILES.history}"`;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(real).pipe(res);
}

function handle(req: IncomingMessage, res: ServerResponse, root: string, rootReal: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(req, res, 405, 'text/plain; charset=utf-8', 'read-only: GET and HEAD only\n', {
      Allow: 'GET, HEAD',
    });
    return;
  }
  try {
    const names = pathNames(req.url ?? '/');
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    if (names.length === 1 && names[0] === 'favicon.ico') {
      res.writeHead(204, HEADERS);
      res.end();
      return;
    }
    if (names.length === 0) {
      send(req, res, 200, TYPES['.html']!, indexPage(root, listRuns(root)));
      return;
    }
    if (names.length === 2 && names[0] === 'api' && names[1] === 'runs') {
      json(
        req,
        res,
        listRuns(root).map(({ dir: _dir, test: _test, ...r }) => r),
      );
      return;
    }
    if (names[0] === 'runs' && names.length >= 3) {
      const run = readRun(root, names[1]!, names[2]!);
      if (run === undefined) throw new Refused(404, 'no such run');
      const rest = names.slice(3);
      if (rest.length === 0) {
        if (!(req.url ?? '').split('?')[0]!.endsWith('/')) {
          res.writeHead(301, { ...HEADERS, Location: `${(req.url ?? '').split('?')[0]}/` });
          res.end();
          return;
        }
        send(req, res, 200, TYPES['.html']!, runPage(run));
        return;
      }
      if (rest[0] === 'api' && rest[1] === 'progress' && rest.length === 2) {
        json(req, res, liveProgress(run.dir));
        return;
      }
      if (rest[0] === 'api' && rest[1] === 'logs' && rest.length === 2) {
        const parsed = logQuerySchema.safeParse(Object.fromEntries(query));
        if (!parsed.success) throw new Refused(400, 'bad log query');
        const started = Date.parse(run.test?.startedAt ?? '');
        const nodes = queryLogs(run.dir, Number.isNaN(started) ? 0 : started, {
          ...(parsed.data.at !== undefined ? { at: parsed.data.at } : {}),
          ...(parsed.data.window !== undefined ? { windowS: parsed.data.window } : {}),
          ...(parsed.data.q !== undefined ? { q: parsed.data.q } : {}),
        });
        json(req, res, { at: parsed.data.at ?? null, nodes });
        return;
      }
      sendFile(req, res, rootReal, join(run.dir, ...rest));
      return;
    }
    throw new Refused(404, 'no such page');
  } catch (e) {
    if (e instanceof Refused) {
      send(req, res, e.status, TYPES['.html']!, notFoundPage(e.message));
      return;
    }
    send(req, res, 500, 'text/plain; charset=utf-8', 'internal error\n');
  }
}

/** Starts the server; resolves once it listens (port 0: any free port). */
export async function serveResults(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const rootReal = realpathSync(options.root);
  const server = createServer((req, res) => handle(req, res, options.root, rootReal));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
