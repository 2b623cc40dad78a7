import { Redis, type RedisOptions } from 'ioredis';
import type { HostPort } from '../../core/cluster.js';

/**
 * ioredis set to send each command once, on the one connection it is given, or not at all.
 * Its defaults would otherwise: reconnect after a drop (`retryStrategy`) and re-send the
 * commands that had no reply yet (`autoResendUnfulfilledCommands`), keep retrying a command
 * across reconnects (`maxRetriesPerRequest: 20`), queue commands while disconnected and send
 * them later (`enableOfflineQueue`), reconnect and re-send on chosen error replies
 * (`reconnectOnError`), and, on connect, poll INFO while redis loads (`enableReadyCheck`), send
 * HELLO 3 (`protocol: 3`), CLIENT SETINFO (`disableClientInfo`) and register for maintenance
 * notifications (`maintNotifications`). Each of those would either repeat a write or make a
 * connection do more than the test asked of it.
 */
export const ONCE_ONLY = {
  lazyConnect: true,
  retryStrategy: () => null,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  reconnectOnError: () => false,
  enableReadyCheck: false,
  autoResubscribe: false,
  protocol: 2,
  disableClientInfo: true,
  maintNotifications: 'disabled',
  enableAutoPipelining: false,
  connectTimeout: 1000,
} satisfies RedisOptions;

/** A connection not yet made (`connect` makes it); its error events are the callers' to read. */
export function connection(address: HostPort): Redis {
  const r = new Redis(address.port, address.host, ONCE_ONLY);
  // Errors reach the commands' promises; the event would only be logged as unhandled.
  r.on('error', () => undefined);
  return r;
}

/** `work` or the signal's abort, whichever comes first (then `onAbort` runs). */
export function raceSignal<T>(
  work: Promise<T>,
  signal: AbortSignal,
  onAbort: () => void,
): Promise<T> {
  if (signal.aborted) {
    onAbort();
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}

/**
 * Runs `fn` on a fresh connection to `address`, closed afterwards; bounded by `signal`
 * (the connection dropped on abort). For the sentinel look-ups, health checks and the leader hook.
 */
export async function withConnection<T>(
  address: HostPort,
  signal: AbortSignal,
  fn: (r: Redis) => Promise<T>,
): Promise<T> {
  const r = connection(address);
  try {
    return await raceSignal(
      r.connect().then(() => fn(r)),
      signal,
      () => r.disconnect(),
    );
  } finally {
    r.disconnect();
  }
}
