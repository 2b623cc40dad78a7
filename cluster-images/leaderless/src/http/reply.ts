/**
 * What a route answers. The status classification the harness relies on:
 *   200          done;
 *   4xx          certainly NOT applied (400 bad input, 404 unknown route, 405 method, 409 the cas
 *                precondition failed, 412 too few replicas reachable so nothing was sent,
 *                413 body too large);
 *   5xx/timeout  unknown outcome: it may have been applied, now or later, or never.
 * Every answer's body says the same in `outcome`.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Reply {
  status: number;
  body: Json;
}

export const ok = (body: { [k: string]: Json }): Reply => ({
  status: 200,
  body: { ...body, outcome: 'ok' },
});

export const failed = (status: 400 | 404 | 405 | 409 | 412 | 413, error: string): Reply => ({
  status,
  body: { error, outcome: 'failed' },
});

export const unknown = (error: string, status: 500 | 503 = 503): Reply => ({
  status,
  body: { error, outcome: 'unknown' },
});
