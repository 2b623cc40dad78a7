import net from 'node:net';
import type { HostPort } from '../../core/cluster.js';

/** The four-letter commands the servers whitelist (`4lw.commands.whitelist`). */
export type FourLetterWord = 'srvr' | 'mntr' | 'ruok';

/** More than any answer of these commands: a server sending more is cut off. */
const MAX_ANSWER = 64 * 1024;

/**
 * Sends a four-letter command on the client port and resolves with the text the server writes
 * before closing the connection. Rejects on a connection error, an answer over 64 KiB, or the
 * signal (which should carry a timeout: a paused server accepts and never answers).
 */
export function fourLetter(
  address: HostPort,
  word: FourLetterWord,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = net.connect({ host: address.host, port: address.port }, () => socket.end(word));
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (e?: Error) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (e !== undefined) reject(e);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    socket.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_ANSWER) finish(new Error(`${word}: an answer over ${MAX_ANSWER} bytes`));
      else chunks.push(c);
    });
    socket.on('error', (e) => finish(e));
    socket.on('close', () => finish());
  });
}

/** A server's role as `srvr` states it (`Mode: leader`), or undefined when it states none. */
export type ServerMode = 'leader' | 'follower' | 'observer' | 'standalone' | 'read-only';

export function parseMode(srvr: string): ServerMode | undefined {
  const m = /^Mode: (leader|follower|observer|standalone|read-only)\s*$/m.exec(srvr);
  return m?.[1] as ServerMode | undefined;
}

/** The server's role, asking `srvr` (bounded by `timeoutMs` and the signal). */
export async function serverMode(
  address: HostPort,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ServerMode | undefined> {
  const bound = AbortSignal.timeout(timeoutMs);
  return parseMode(
    await fourLetter(
      address,
      'srvr',
      signal === undefined ? bound : AbortSignal.any([signal, bound]),
    ),
  );
}
