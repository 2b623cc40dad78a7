import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HostPort, SystemRecipe } from '../backends/types.js';
import type { ClientFactory, Op } from '../client.js';
import { ErrorRegistry, hasCode, OpError } from '../client.js';
import { HttpJsonClient, HttpStatusError } from '../http-json.js';
import type { SystemDefinition } from './types.js';

/** The store's bundle, built by `npm run build` (found from source and from dist/). */
export function leaderlessBinary(): string {
  for (const rel of [
    '../../cluster-images/leaderless/dist/leaderless.js',
    '../../../cluster-images/leaderless/dist/leaderless.js',
  ]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return fileURLToPath(
    new URL('../../cluster-images/leaderless/dist/leaderless.js', import.meta.url),
  );
}

const hostPort = (a: HostPort) =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;

/** The leaderless store's recipe: one `node leaderless.js` per node, settings as `--flag value`. */
export function leaderlessRecipe(binary = leaderlessBinary()): SystemRecipe {
  return {
    name: 'leaderless',
    // A Node.js program: Date.now() goes through libc, so libfaketime moves its wall clock (the
    // lww conflict mode orders writes by it). A backend still has to be able to do clock faults.
    clockFaults: true,
    launch({ node, listen, peerListen, peers, dataDir, settings }) {
      const peerList = { ...peers };
      peerList[node] ??= peerListen;
      const args = [
        binary,
        '--id',
        node,
        '--listen',
        hostPort(listen),
        '--peer-listen',
        hostPort(peerListen),
        '--peers',
        Object.entries(peerList)
          .map(([id, a]) => `${id}=${hostPort(a)}`)
          .join(','),
        '--data-dir',
        dataDir,
      ];
      for (const [k, v] of Object.entries(settings)) args.push(`--${k}`, v);
      return { command: process.execPath, args, env: {} };
    },
    async healthy(client) {
      const c = new HttpJsonClient(client, undefined);
      try {
        const r = await c.request('GET', '/admin/status', undefined, AbortSignal.timeout(500));
        return r.status === 200;
      } catch {
        return false;
      } finally {
        c.close();
      }
    },
  };
}

/**
 * Which leaderless answers mean "certainly not applied": every 4xx (the store documents 409 cas
 * precondition failed, 412 too few replicas so nothing was sent, 400/404/405/413 rejected), and a
 * refused connection (the request never reached the node). 5xx, resets and timeouts stay unknown.
 */
export const leaderlessErrors = new ErrorRegistry([
  {
    name: 'cas precondition failed',
    type: 'fail',
    match: (e) => e instanceof HttpStatusError && e.status === 409,
  },
  {
    name: 'rejected',
    type: 'fail',
    match: (e) => e instanceof HttpStatusError && e.status >= 400 && e.status < 500,
  },
  { name: 'connection refused', type: 'fail', match: (e) => hasCode(e, 'ECONNREFUSED') },
  {
    name: 'unknown op',
    type: 'fail',
    match: (e) => e instanceof OpError && e.code === 'unsupported',
  },
]);

const path = (kind: string, key: unknown) => `/${kind}/${encodeURIComponent(String(key))}`;

/** The CASPaxos register client: read / write / cas on `/lin/:key`. */
export const leaderlessLinClient: ClientFactory<Op> = {
  errors: leaderlessErrors,
  open(_node, address) {
    const http = new HttpJsonClient(address);
    return {
      async invoke(op, signal) {
        const key = op.key ?? 'r';
        switch (op.f) {
          case 'read': {
            const body = (await http.call('GET', path('lin', key), undefined, signal)) as {
              value?: unknown;
            };
            return { value: body.value ?? null };
          }
          case 'write':
            await http.call('PUT', path('lin', key), { value: op.value }, signal);
            return {};
          case 'cas': {
            const [from, to] = op.value as [unknown, unknown];
            await http.call('POST', `${path('lin', key)}/cas`, { from, to }, signal);
            return {};
          }
          default:
            throw new OpError('unsupported', `the lin client has no operation ${op.f}`);
        }
      },
      async close() {
        http.close();
      },
    };
  },
};

export const leaderless: SystemDefinition = {
  name: 'leaderless',
  recipe: () => leaderlessRecipe(),
  clients: { lin: leaderlessLinClient },
  preflight() {
    const bin = leaderlessBinary();
    return existsSync(bin)
      ? undefined
      : `the leaderless store is not built (${bin} is missing): run \`npm run build\` first`;
  },
};
