import { CLOCK_FILE } from './images.js';

/**
 * libfaketime's settings for a node: the offset comes from a file the nemesis rewrites
 * (no FAKETIME, which would override the file); the monotonic clock stays real (a forward
 * jump would otherwise fire every pending Node timer at once); no caching, so a new offset
 * applies at the next clock read.
 */
export function faketimeEnv(library: string): Record<string, string> {
  return {
    LD_PRELOAD: library,
    FAKETIME_TIMESTAMP_FILE: CLOCK_FILE,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    FAKETIME_NO_CACHE: '1',
  };
}

/** The timestamp file's text for an offset in ms: a relative offset in seconds, `+3600.250`. */
export function offsetText(offsetMs: number): string {
  if (!Number.isFinite(offsetMs)) throw new Error(`clock offset must be finite, got ${offsetMs}`);
  const ms = Math.round(offsetMs);
  const sign = ms < 0 ? '-' : '+';
  const abs = Math.abs(ms);
  return `${sign}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`;
}
