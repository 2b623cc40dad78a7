import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/**
 * Node ports are picked below the kernel's ephemeral range: a port in that range that a killed
 * node left free could be taken by any outgoing connection's local port before the node is
 * restarted on it, while ports below it are only ever handed out by explicit binds.
 */
const FALLBACK_EPHEMERAL_LOW = 32768;
const LOWEST_PORT = 10000;

function ephemeralLow(): number {
  try {
    const text = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const low = Number.parseInt(text.trim().split(/\s+/)[0] ?? '', 10);
    return Number.isFinite(low) && low > LOWEST_PORT + 1000 ? low : FALLBACK_EPHEMERAL_LOW;
  } catch {
    return FALLBACK_EPHEMERAL_LOW;
  }
}

function tryListen(host: string, port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * `count` distinct ports that are free on `host` right now (each was bound, then all released
 * together), skipping `avoid` (ports other live runs recorded in the run registry). `startHint`
 * spreads concurrent runs over the range so they rarely probe the same ports.
 */
export async function reservePorts(
  count: number,
  options: { host: string; avoid?: ReadonlySet<number>; startHint?: number },
): Promise<number[]> {
  const high = ephemeralLow() - 1;
  const span = high - LOWEST_PORT + 1;
  const start = (options.startHint ?? process.pid * 97) % span;
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let k = 0; k < span && ports.length < count; k++) {
      const port = LOWEST_PORT + ((start + k) % span);
      if (options.avoid?.has(port)) continue;
      const server = await tryListen(options.host, port);
      if (server === undefined) continue;
      held.push(server);
      ports.push(port);
    }
  } finally {
    await Promise.all(held.map(closeServer));
  }
  if (ports.length < count) {
    throw new Error(`could not find ${count} free ports on ${options.host}`);
  }
  return ports;
}
