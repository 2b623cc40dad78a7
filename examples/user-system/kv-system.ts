import { fileURLToPath } from 'node:url';
import {
  type ClientFactory,
  defineSystem,
  ErrorRegistry,
  HttpJsonClient,
  HttpStatusError,
  hasCode,
  z,
} from 'faultline';

const server = fileURLToPath(new URL('./kv-server.mjs', import.meta.url));

/** 409 (a cas whose expected value differed) and a refused connection are definite; the rest unknown. */
const errors = new ErrorRegistry([
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
  {
    name: 'connection refused',
    type: 'fail',
    unavailable: true,
    match: (e) => hasCode(e, 'ECONNREFUSED'),
  },
]);

const key = (k: unknown) => '/kv/' + encodeURIComponent(String(k ?? 'r'));

/** The register API: read / write / cas on one key. Never retries: each op is one request. */
const register: ClientFactory = {
  errors,
  open(_node, address) {
    const http = new HttpJsonClient(address);
    return {
      async invoke(op, signal) {
        if (op.f === 'read') {
          const body = (await http.call('GET', key(op.key), undefined, signal)) as {
            value?: unknown;
          };
          return { value: body.value ?? null };
        }
        if (op.f === 'write') {
          await http.call('PUT', key(op.key), { value: op.value }, signal);
          return {};
        }
        if (op.f === 'cas') {
          const [from, to] = op.value as [unknown, unknown];
          await http.call('POST', key(op.key) + '/cas', { from, to }, signal);
          return {};
        }
        throw new Error('no such op ' + op.f);
      },
      async close() {
        http.close();
      },
    };
  },
};

export default defineSystem({
  name: 'tiny-kv',
  settings: z.strictObject({
    replication: z.enum(['none', 'async']).default('none'),
    delay: z.coerce.number().int().min(0).default(200),
  }),
  local: {
    launch: ({ node, listen, peerListen, peers, dataDir, settings }) => ({
      command: process.execPath,
      args: [server],
      env: {
        KV_ID: node,
        KV_HOST: listen.host,
        KV_PORT: String(listen.port),
        KV_PEER_HOST: peerListen.host,
        KV_PEER_PORT: String(peerListen.port),
        KV_PEERS: JSON.stringify(peers),
        KV_DATA: dataDir,
        KV_REPLICATION: settings.replication,
        KV_DELAY: String(settings.delay),
      },
    }),
  },
  // In a container: the server file copied in; node comes with faultline's base image.
  docker: { image: { files: [{ from: server, to: '/opt/tiny-kv/kv-server.mjs' }] } },
  async healthy(address) {
    const http = new HttpJsonClient(address);
    try {
      return (
        (await http.request('GET', '/health', undefined, AbortSignal.timeout(500))).status === 200
      );
    } catch {
      return false;
    } finally {
      http.close();
    }
  },
  clockFaults: true,
  clients: { register },
});
