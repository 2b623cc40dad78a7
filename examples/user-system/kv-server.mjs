// A small key-value server, one file, no dependencies: the "user's own system" of
// test/external-project.test.ts. Configured by environment variables (KV_*).
//
// Clients: GET /kv/:key -> {value} (null when absent); PUT /kv/:key {value}; POST /kv/:key/cas
// {from, to} (409 when the value is not `from`); GET /health. Every acknowledged write is
// appended to kv.log in the data dir and fsynced before the answer; the log is replayed at start.
//
// KV_REPLICATION=none: every node stands alone (run it as one node).
// KV_REPLICATION=async: n1 is the primary. Writes sent to another node are handed to n1 over
// the peer port; n1 applies them, answers at once, and tells the others KV_DELAY ms later, once,
// without checking they heard. Every node answers reads from its own copy.
import { existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const env = process.env;
const id = env.KV_ID;
const replication = env.KV_REPLICATION ?? 'none';
const delay = Number(env.KV_DELAY ?? '200');
const peers = JSON.parse(env.KV_PEERS ?? '{}');
const PRIMARY = 'n1';

mkdirSync(env.KV_DATA, { recursive: true });
const logFile = join(env.KV_DATA, 'kv.log');
const data = new Map();
if (existsSync(logFile)) {
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      const r = JSON.parse(line);
      data.set(r.key, r.value);
    } catch {
      // a torn last line: that write was never acknowledged
    }
  }
}
const fd = openSync(logFile, 'a');
function persist(key, value) {
  writeSync(fd, `${JSON.stringify({ key, value })}\n`);
  fsyncSync(fd);
  data.set(key, value);
}

const current = (key) => (data.has(key) ? data.get(key) : null);

function readBody(req) {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      try {
        resolve(text === '' ? {} : JSON.parse(text));
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function peerPost(address, path, body) {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = http.request(
      {
        host: address.host,
        port: address.port,
        method: 'POST',
        path,
        timeout: 1000,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        let got = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          got += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode, body: got === '' ? {} : JSON.parse(got) }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('peer timeout')));
    req.on('error', reject);
    req.end(text);
  });
}

// A write where writes are decided (the only node, or the primary).
function apply(op) {
  if (op.kind === 'cas') {
    if (JSON.stringify(current(op.key)) !== JSON.stringify(op.from)) {
      return { status: 409, body: { error: 'cas: the value is not the expected one' } };
    }
    persist(op.key, op.to);
  } else {
    persist(op.key, op.value);
  }
  if (replication === 'async') {
    const value = current(op.key);
    setTimeout(() => {
      for (const address of Object.values(peers)) {
        peerPost(address, '/replicate', { key: op.key, value }).catch(() => {});
      }
    }, delay);
  }
  return { status: 200, body: {} };
}

async function write(op) {
  if (replication !== 'async' || id === PRIMARY) return apply(op);
  try {
    return await peerPost(peers[PRIMARY], '/write', op);
  } catch (e) {
    // The primary may or may not have applied it: say so (503, outcome unknown).
    return { status: 503, body: { error: `primary: ${e.message}` } };
  }
}

const clients = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/health') return send(res, 200, { id });
    const m = /^\/kv\/([^/]+)(\/cas)?$/.exec(url.pathname);
    if (m === null) return send(res, 404, { error: 'no such path' });
    const key = decodeURIComponent(m[1]);
    if (req.method === 'GET' && m[2] === undefined) return send(res, 200, { value: current(key) });
    const body = await readBody(req);
    let r;
    if (req.method === 'PUT' && m[2] === undefined)
      r = await write({ kind: 'write', key, value: body.value });
    else if (req.method === 'POST' && m[2] !== undefined)
      r = await write({ kind: 'cas', key, from: body.from, to: body.to });
    else r = { status: 405, body: { error: 'method not allowed' } };
    send(res, r.status, r.body);
  } catch (e) {
    send(res, 500, { error: String(e) });
  }
});

const peerServer = http.createServer(async (req, res) => {
  try {
    const body = await readBody(req);
    if (req.url === '/replicate') {
      persist(body.key, body.value);
      return send(res, 200, {});
    }
    if (req.url === '/write') {
      const r = apply(body);
      return send(res, r.status, r.body);
    }
    send(res, 404, { error: 'no such path' });
  } catch (e) {
    send(res, 500, { error: String(e) });
  }
});

clients.listen(Number(env.KV_PORT), env.KV_HOST);
peerServer.listen(Number(env.KV_PEER_PORT), env.KV_PEER_HOST);
