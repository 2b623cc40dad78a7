/**
 * Entry point of one leaderless store node: parse settings, open the replica, start the peer
 * transport, membership, background work and the client HTTP server. SIGTERM/SIGINT close
 * everything gracefully; a bad setting exits with status 2 and a message naming the flag.
 */
import { writeSync } from 'node:fs';
import { StoreNode } from './cluster/node.js';
import { type Config, ConfigError, envName, parseConfig, SETTINGS } from './config.js';
import { createHttpServer, type LeanHttpServer } from './http/server.js';
import { Transport } from './net/transport.js';
import { Replica } from './replica/replica.js';

type Level = 'debug' | 'info' | 'warn';
const LEVELS: Record<Level, number> = { debug: 0, info: 1, warn: 2 };

/**
 * Writes a log line straight to fd 1/2: touching process.stdout builds a stream object (and loads
 * its modules), which costs the start-up noticeably; a pipe or file stdout is written
 * synchronously by Node on Linux anyway. Falls back to the stream if the fd refuses (EAGAIN).
 */
function writeLine(fd: 1 | 2, text: string): void {
  let buf = Buffer.from(text);
  try {
    while (buf.length > 0) buf = buf.subarray(writeSync(fd, buf));
  } catch {
    (fd === 2 ? process.stderr : process.stdout).write(buf);
  }
}

function makeLogger(id: string, min: Level) {
  return (level: Level, line: string) => {
    if (LEVELS[level] < LEVELS[min]) return;
    const text = `${new Date().toISOString()} ${level.toUpperCase()} ${id} ${line}\n`;
    writeLine(level === 'warn' ? 2 : 1, text);
  };
}

function usage(): string {
  return [
    'usage: leaderless --id ID --listen HOST:PORT --peer-listen HOST:PORT --peers ID=HOST:PORT,... --data-dir DIR [settings]',
    ...Object.entries(SETTINGS).map(
      ([flag, what]) => `  --${flag.padEnd(22)} ${what}  [${envName(flag)}]`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const t0 = performance.now();
  let cfg: Config;
  try {
    if (process.argv.includes('--help')) {
      process.stdout.write(usage() + '\n');
      process.exit(0);
    }
    cfg = parseConfig(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`leaderless: ${e.message}\n${usage()}\n`);
    process.exit(2);
  }
  const log = makeLogger(cfg.id, cfg.logLevel);
  const tConfig = performance.now();
  const replica = await Replica.open({
    nodeId: cfg.id,
    dataDir: cfg.dataDir,
    storage: cfg.storage,
    fsync: cfg.fsync,
    fsyncIntervalMs: cfg.fsyncIntervalMs,
    conflict: cfg.conflict,
    log: (line) => log('info', line),
  });
  const tOpened = performance.now();
  let node: StoreNode | undefined;
  const transport = new Transport({
    self: cfg.id,
    // Every node of the pool may become a member: each has a link (a spare's stays down).
    peers: cfg.pool,
    listen: cfg.peerListen,
    ...(cfg.clusterSecret === undefined ? {} : { secret: cfg.clusterSecret }),
    handler: (from, body) => {
      if (!node) throw new Error('starting');
      return node.handlePeer(from, body);
    },
    log,
  });
  node = new StoreNode(cfg, replica, transport, log);
  const server: LeanHttpServer = createHttpServer({
    api: node,
    maxBodyBytes: cfg.maxBodyBytes,
    maxConnections: cfg.maxConnections,
    maxBufferedBytes: cfg.maxBufferedBytes,
    readTimeoutMs: cfg.readTimeoutMs,
    log,
  });
  try {
    await transport.listen();
    await server.listen(cfg.listen.port, cfg.listen.host);
    // Dial peers once both ports listen: /admin/status answers a little sooner after a start.
    transport.dial();
  } catch (e) {
    log('warn', `cannot listen: ${(e as Error).message}`);
    process.exit(1);
  }
  node.start();
  // performance.now() counts from process start, so this includes Node's own boot.
  log(
    'info',
    `up ${Math.round(performance.now())} ms after process start (main ${Math.round(performance.now() - t0)} ms, ` +
      `replica open ${Math.round(tOpened - tConfig)} ms): clients ${cfg.listen.host}:${cfg.listen.port}, ` +
      `peers ${cfg.peerListen.host}:${cfg.peerListen.port}, members ${node.states.readRingMembers().join(',')}${cfg.join ? ' (joining)' : ''}, ` +
      `n=${cfg.n} r=${cfg.r} w=${cfg.w} conflict=${cfg.conflict} storage=${cfg.storage} fsync=${cfg.fsync} ` +
      `peer authentication ${cfg.clusterSecret === undefined ? 'off' : 'on'}`,
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log('info', `${signal}: closing`);
    const force = setTimeout(() => {
      log('warn', 'graceful close took too long; exiting');
      process.exit(1);
    }, 5000);
    force.unref();
    void server.close();
    server.closeIdleConnections();
    node?.stop();
    await transport.close();
    await replica.close();
    log('info', 'closed');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`leaderless: fatal: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
