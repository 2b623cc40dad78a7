#!/usr/bin/env node
// faultline's delay proxy. It runs in a node's network container (so in the node's network
// namespace) once that node is given a link delay: iptables DNAT sends the node's peer
// connections through it, both those the node opens (OUT listeners: node -> proxy -> peer)
// and those peers open to it (IN listeners: peer -> proxy -> node). Bytes the node sends are
// held `delayMs + jitterMs * U[0,1)` and never overtake one another on a connection; bytes
// towards the node pass at once. Plain JavaScript, Node's own modules only.
//
//   node delay-proxy.mjs STATE_DIR SELF_IP PEER_PORT UID  OUT_PORT=PEER_IP ...  IN_PORT=PEER_IP ...
//     OUT listeners are given as oPORT=IP, IN listeners as iPORT=IP.
//
// STATE_DIR/delay holds "DELAY_MS JITTER_MS", re-read on SIGHUP. STATE_DIR/delay-proxy.ready
// appears once every listener is bound. After binding, the process takes user id UID, which
// the DNAT rule for outgoing connections excludes (so its own upstream connections are not
// sent back to it).
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const [stateDir, selfIp, peerPortText, uidText, ...listeners] = process.argv.slice(2);
const peerPort = Number(peerPortText);
const uid = Number(uidText);
if (!stateDir || !selfIp || !Number.isInteger(peerPort) || !Number.isInteger(uid)) {
  console.error('usage: delay-proxy.mjs STATE_DIR SELF_IP PEER_PORT UID oPORT=IP... iPORT=IP...');
  process.exit(2);
}

let delayMs = 0;
let jitterMs = 0;
function readDelay() {
  try {
    const [d, j] = readFileSync(`${stateDir}/delay`, 'utf8').trim().split(/\s+/).map(Number);
    delayMs = Number.isFinite(d) && d > 0 ? d : 0;
    jitterMs = Number.isFinite(j) && j > 0 ? j : 0;
  } catch {
    delayMs = 0;
    jitterMs = 0;
  }
}
readDelay();
process.on('SIGHUP', readDelay);

/** Writes chunks to `to` after the delay, in order (each due no earlier than the one before). */
function delayedWriter(to) {
  let lastDue = 0;
  let ended = false;
  const queue = [];
  let timer;
  const pump = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0].due <= now) {
      const item = queue.shift();
      if (item.end) to.end();
      else to.write(item.chunk);
    }
    if (queue.length > 0) timer = setTimeout(pump, Math.max(0, queue[0].due - performance.now()));
  };
  const push = (item) => {
    const hold = delayMs + jitterMs * Math.random();
    if (hold <= 0 && queue.length === 0) {
      if (item.end) to.end();
      else to.write(item.chunk);
      return;
    }
    const due = Math.max(performance.now() + hold, lastDue);
    lastDue = due;
    queue.push({ ...item, due });
    if (timer === undefined)
      timer = setTimeout(pump, Math.max(0, queue[0].due - performance.now()));
  };
  return {
    write: (chunk) => push({ chunk }),
    end: () => {
      if (!ended) push({ end: true });
      ended = true;
    },
    destroy: () => {
      if (timer !== undefined) clearTimeout(timer);
      queue.length = 0;
    },
  };
}

/** Pairs `client` with a new connection to `host:port`; `delayOutbound` says which way is slow. */
function pair(client, host, port, delayClientToUpstream) {
  const upstream = connect({ host, port, noDelay: true });
  client.setNoDelay(true);
  const slowTo = delayClientToUpstream ? delayedWriter(upstream) : delayedWriter(client);
  const fastTo = delayClientToUpstream ? client : upstream;
  const slowFrom = delayClientToUpstream ? client : upstream;
  const fastFrom = delayClientToUpstream ? upstream : client;
  slowFrom.on('data', (c) => slowTo.write(c));
  slowFrom.on('end', () => slowTo.end());
  fastFrom.on('data', (c) => fastTo.write(c));
  fastFrom.on('end', () => fastTo.end());
  const close = () => {
    slowTo.destroy();
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', () => upstream.end());
  upstream.on('close', () => client.end());
}

const servers = [];
for (const spec of listeners) {
  const m = /^([oi])(\d+)=(.+)$/.exec(spec);
  if (!m) {
    console.error(`delay-proxy: bad listener ${spec}`);
    process.exit(2);
  }
  const [, kind, port, peerIp] = m;
  const server = createServer(
    (client) =>
      kind === 'o'
        ? pair(client, peerIp, peerPort, true) // the node's own connection to the peer
        : pair(client, selfIp, peerPort, false), // a peer's connection to the node
  );
  servers.push(
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(port), selfIp, resolve);
    }),
  );
}
await Promise.all(servers);
writeFileSync(`${stateDir}/delay-proxy.ready`, `${process.pid}\n`);
process.setgid?.(uid);
process.setuid?.(uid);
console.log(
  `delay-proxy: ${listeners.length} listeners on ${selfIp}, delay ${delayMs}±${jitterMs} ms`,
);
