import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { HostPort, SystemRecipe } from '../../core/cluster.js';

/** The stand-in node script (plain JS, runs with `node` directly), from source or from dist/. */
export const STANDIN_SCRIPT = ((): string => {
  for (const rel of ['./standin-node.mjs', '../../../backends/testing/standin-node.mjs']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return fileURLToPath(new URL('./standin-node.mjs', import.meta.url));
})();

/**
 * The stand-in system's recipe. `command`/`script` let a backend that runs nodes elsewhere
 * (a container) point at its own copies of node and the script.
 */
export function standinRecipe(
  options: { command?: string; script?: string; healthTimeoutMs?: number } = {},
): SystemRecipe {
  const command = options.command ?? process.execPath;
  const script = options.script ?? STANDIN_SCRIPT;
  const healthTimeoutMs = options.healthTimeoutMs ?? 500;
  return {
    name: 'standin',
    clockFaults: true,
    // Every node of the pool is a peer (`pool`), so a node added later is reached as any other.
    launch: ({ node, listen, peerListen, pool, dataDir }) => ({
      command,
      args: [
        script,
        '--id',
        node,
        '--listen',
        `${listen.host}:${listen.port}`,
        '--peer-listen',
        `${peerListen.host}:${peerListen.port}`,
        '--peers',
        Object.entries(pool)
          .map(([p, a]) => `${p}=${a.host}:${a.port}`)
          .join(','),
        '--data-dir',
        dataDir,
      ],
      env: {},
    }),
    healthy: async (client) => {
      try {
        const r = await httpRequest(client, 'GET', '/health', { timeoutMs: healthTimeoutMs });
        return r.status === 200;
      } catch {
        return false;
      }
    },
  };
}

export interface HttpResult {
  status: number;
  body: string;
}

/** Why a request failed: the distinction the conformance suite cares about. */
export class HttpError extends Error {
  constructor(
    readonly kind: 'timeout' | 'refused' | 'other',
    message: string,
  ) {
    super(message);
  }
}

/** One HTTP request on a fresh connection (no pooling: a paused or killed node must not poison a pool). */
export function httpRequest(
  to: HostPort,
  method: string,
  path: string,
  options: { body?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const timeoutMs = options.timeoutMs ?? 2000;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: to.host, port: to.port, method, path, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (e) => reject(new HttpError('other', e.message)));
      },
    );
    req.on('timeout', () => {
      req.destroy(new HttpError('timeout', `${method} ${path}: no answer in ${timeoutMs} ms`));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof HttpError) reject(e);
      else if (e.code === 'ECONNREFUSED') reject(new HttpError('refused', e.message));
      else reject(new HttpError('other', `${e.code ?? ''} ${e.message}`));
    });
    req.end(options.body);
  });
}

const SendResultSchema = z.object({
  sent: z.number(),
  echoed: z.number(),
  reused: z.boolean(),
  error: z.string().nullable(),
});
export type SendResult = z.infer<typeof SendResultSchema>;

/** A typed client for one stand-in node. */
export class StandinClient {
  constructor(readonly address: HostPort) {}

  /** Ask the node to exit on its own (status 0), as a system may when it is removed. */
  async exit(): Promise<void> {
    const r = await httpRequest(this.address, 'POST', '/exit');
    if (r.status !== 200) throw new Error(`exit: HTTP ${r.status} ${r.body}`);
  }

  async health(timeoutMs = 1000): Promise<{ id: string; pid: number; now: number }> {
    const r = await httpRequest(this.address, 'GET', '/health', { timeoutMs });
    return z.object({ id: z.string(), pid: z.number(), now: z.number() }).parse(JSON.parse(r.body));
  }

  async writeFile(name: string, content: string): Promise<void> {
    const r = await httpRequest(this.address, 'PUT', `/files/${name}`, { body: content });
    if (r.status !== 200) throw new Error(`write ${name}: HTTP ${r.status} ${r.body}`);
  }

  async readFile(name: string): Promise<string | undefined> {
    const r = await httpRequest(this.address, 'GET', `/files/${name}`);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new Error(`read ${name}: HTTP ${r.status} ${r.body}`);
    return r.body;
  }

  /** Send `bytes` to `peer` and report how many came back within `timeoutMs`. */
  async send(
    peer: string,
    bytes: number,
    options: { timeoutMs?: number; conn?: 'new' | 'keep' } = {},
  ): Promise<SendResult> {
    const timeoutMs = options.timeoutMs ?? 1000;
    const q = `peer=${encodeURIComponent(peer)}&bytes=${bytes}&timeoutMs=${timeoutMs}&conn=${options.conn ?? 'new'}`;
    const r = await httpRequest(this.address, 'POST', `/send?${q}`, {
      timeoutMs: timeoutMs + 2000,
    });
    if (r.status !== 200) throw new Error(`send to ${peer}: HTTP ${r.status} ${r.body}`);
    return SendResultSchema.parse(JSON.parse(r.body));
  }

  async received(): Promise<number> {
    const r = await httpRequest(this.address, 'GET', '/received');
    return z.object({ bytes: z.number() }).parse(JSON.parse(r.body)).bytes;
  }
}
