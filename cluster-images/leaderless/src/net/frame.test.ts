import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, FrameError } from './frame.js';

const jsonArb = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe('frames', () => {
  it('decode what was encoded, however the bytes are split', () => {
    fc.assert(
      fc.property(
        fc.array(jsonArb, { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 7 })),
        (msgs, cuts) => {
          const bytes = Buffer.concat(msgs.map(encodeFrame));
          const dec = new FrameDecoder();
          const out: unknown[] = [];
          let pos = 0;
          let i = 0;
          while (pos < bytes.length) {
            const step = cuts.length ? cuts[i++ % cuts.length]! : bytes.length;
            out.push(...dec.push(bytes.subarray(pos, pos + step)));
            pos += step;
          }
          expect(out).toEqual(msgs);
        },
      ),
    );
  });

  it('refuse a frame longer than the limit before buffering it', () => {
    const dec = new FrameDecoder(1000);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(1001);
    expect(() => dec.push(head)).toThrow(FrameError);
  });

  it('refuse a frame that is not JSON', () => {
    const body = Buffer.from('{not json');
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    expect(() => new FrameDecoder().push(Buffer.concat([head, body]))).toThrow(FrameError);
  });
});
