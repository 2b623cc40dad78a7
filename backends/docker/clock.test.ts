import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { faketimeEnv, offsetText } from './clock.js';

describe('libfaketime settings', () => {
  it('write an offset as signed seconds with ms that read back to the same offset', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e10, max: 1e10 }), (ms) => {
        const text = offsetText(ms);
        expect(text).toMatch(/^[+-]\d+\.\d{3}$/);
        expect(Math.round(Number(text) * 1000)).toBe(ms);
      }),
    );
    expect(offsetText(3_600_000)).toBe('+3600.000');
    expect(offsetText(-1)).toBe('-0.001');
    expect(() => offsetText(Number.POSITIVE_INFINITY)).toThrow(/finite/);
  });

  it('read the offset from the file, never from FAKETIME, with a real monotonic clock', () => {
    const env = faketimeEnv('/lib/libfaketime.so.1');
    expect(env).toMatchObject({
      LD_PRELOAD: '/lib/libfaketime.so.1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
      FAKETIME_NO_CACHE: '1',
    });
    expect(env.FAKETIME_TIMESTAMP_FILE).toMatch(/^\//);
    expect(Object.keys(env)).not.toContain('FAKETIME');
  });
});
