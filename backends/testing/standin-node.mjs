#!/usr/bin/env node
// A tiny stand-in for a system under test, used by the backend conformance suite. Plain
// JavaScript with no imports outside Node's own, so it starts in milliseconds on any backend
// (a local child process, a container) without a build step.
//
//   node standin-node.mjs --id n1 --listen H:P --peer-listen H:P --peers n1=H:P,n2=H:P --data-dir DIR
//
// Client port (HTTP):
//   GET  /health                   {"id","pid","now"}        (now = Date.now(), for clock faults)
//   PUT  /files/NAME  (body)       writes DATA_DIR/NAME
//   GET  /files/NAME               its content, 404 when absent
//   POST /send?peer=P&bytes=N&timeoutMs=T&conn=new|keep
//        sends N bytes to peer P (a new connection, or the one kept open for P) and waits up
//        to T ms for them to come back: {"sent","echoed","reused","error"}
//   GET  /received                 {"bytes"}: bytes received on the peer port so far
// Peer port (TCP): echoes every byte it receives.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    listen: { type: 'string' },
    'peer-listen': { type: 'string' },
    peers: { type: 'string', default: '' },
    'data-dir': { type: 'string' },
  },
});

function hostPort(text, what) {
  const m = /^(.*):(\d+)$/.exec(text ?? '');
  if (!m) throw new Error(`--${what}: expected HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1], port: Number(m[2]) };
}

const id = values.id;
if (!id) throw new Error('--id is required');
const dataDir = values['data-dir'];
if (!dataDir) throw new Error('--data-dir is required');
const listen = hostPort(values.listen, 'listen');
const peerListen = hostPort(values['peer-listen'], 'peer-listen');
const peers = {};
for (const item of values.peers.split(',').filter(Boolean)) {
  const eq = item.indexOf('=');
  peers[item.slice(0, eq)] = hostPort(item.slice(eq + 1), `peers (${item})`);
}
mkdirSync(dataDir, { recursive: true });

let received = 0;
createServer((socket) => {
  socket.on('data', (chunk) => {
    received += chunk.length;
    socket.write(chunk);
  });
  socket.on('error', () => {});
}).listen(peerListen.port, peerListen.host);

/** Connections kept open per peer for conn=keep. */
const kept = new Map();

function openConnection(peer) {
  const socket = createConnection(peers[peer]);
  const conn = { socket, echoed: 0, waiters: new Set(), closed: false, error: undefined };
  socket.on('data', (chunk) => {
    conn.echoed += chunk.length;
    for (const w of conn.waiters) w();
  });
  const onGone = (err) => {
    conn.closed = true;
    if (err) conn.error = err.code ?? String(err);
    if (kept.get(peer) === conn) kept.delete(peer);
    for (const w of conn.waiters) w();
  };
  socket.on('error', onGone);
  socket.on('close', () => onGone());
  return conn;
}

function send(peer, bytes, timeoutMs, keep) {
  return new Promise((resolve) => {
    let conn = keep ? kept.get(peer) : undefined;
    const reused = conn !== undefined;
    if (!conn) {
      conn = openConnection(peer);
      if (keep) kept.set(peer, conn);
    }
    const start = conn.echoed;
    const c = conn;
    let timer;
    const finish = () => {
      clearTimeout(timer);
      c.waiters.delete(check);
      if (!keep) c.socket.destroy();
      resolve({ sent: bytes, echoed: c.echoed - start, reused, error: c.error ?? null });
    };
    const check = () => {
      if (c.echoed - start >= bytes || c.closed) finish();
    };
    c.waiters.add(check);
    timer = setTimeout(finish, timeoutMs);
    c.socket.write(Buffer.alloc(bytes, 0x61));
  });
}

function reply(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

createHttpServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://node');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      if (req.method === 'GET' && url.pathname === '/health') {
        return reply(res, 200, { id, pid: process.pid, now: Date.now() });
      }
      if (req.method === 'POST' && url.pathname === '/exit') {
        // A node that stops on its own (as etcd does once removed from its cluster).
        reply(res, 200, { exiting: true });
        setTimeout(() => process.exit(0), 20);
        return;
      }
      if (url.pathname.startsWith('/files/')) {
        const name = url.pathname.slice('/files/'.length);
        if (!/^[A-Za-z0-9._-]+$/.test(name)) return reply(res, 400, { error: 'bad name' });
        const file = join(dataDir, name);
        if (req.method === 'PUT') {
          writeFileSync(file, Buffer.concat(chunks));
          return reply(res, 200, { ok: true });
        }
        try {
          return reply(res, 200, readFileSync(file, 'utf8'));
        } catch {
          return reply(res, 404, { error: 'not found' });
        }
      }
      if (req.method === 'POST' && url.pathname === '/send') {
        const peer = url.searchParams.get('peer') ?? '';
        if (!(peer in peers)) return reply(res, 400, { error: `unknown peer ${peer}` });
        const bytes = Number(url.searchParams.get('bytes') ?? '1024');
        const timeoutMs = Number(url.searchParams.get('timeoutMs') ?? '1000');
        const keep = url.searchParams.get('conn') === 'keep';
        return reply(res, 200, await send(peer, bytes, timeoutMs, keep));
      }
      if (req.method === 'GET' && url.pathname === '/received') {
        return reply(res, 200, { bytes: received });
      }
      return reply(res, 404, { error: 'no such endpoint' });
    } catch (err) {
      return reply(res, 500, { error: String(err) });
    }
  });
}).listen(listen.port, listen.host, () => {
  process.stdout.write(`${id} listening on ${listen.host}:${listen.port}\n`);
});
