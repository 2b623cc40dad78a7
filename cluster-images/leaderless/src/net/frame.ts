/**
 * Length-prefixed JSON frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
 * The decoder refuses oversized frames and bad JSON by throwing FrameError, after which the
 * connection is unusable and must be closed (there is no way to resynchronise a byte stream).
 */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;

export class FrameError extends Error {}

export function encodeFrame(message: unknown): Buffer {
  const json = JSON.stringify(message);
  const len = Buffer.byteLength(json);
  if (len > MAX_FRAME_BYTES) throw new FrameError(`frame of ${len} bytes exceeds the limit`);
  const buf = Buffer.allocUnsafe(4 + len);
  buf.writeUInt32BE(len, 0);
  buf.write(json, 4, 'utf8');
  return buf;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /** The largest frame accepted now (a connection raises it once the peer authenticated). */
  constructor(public maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.bytes;
  }

  /** Feeds bytes; returns every complete frame's parsed JSON, in order. */
  push(chunk: Buffer): unknown[] {
    this.feed(chunk);
    const out: unknown[] = [];
    for (let f = this.next(); f !== undefined; f = this.next()) out.push(f.value);
    return out;
  }

  /** Buffers bytes without decoding them (take frames one at a time with next()). */
  feed(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /**
   * The next complete frame, or undefined while it is incomplete. A frame longer than the current
   * limit throws as soon as its length is known, before its bytes are waited for.
   */
  next(): { value: unknown } | undefined {
    if (this.bytes < 4) return undefined;
    const head = this.peekLength();
    if (head > this.maxFrameBytes) {
      throw new FrameError(`frame length ${head} exceeds the limit of ${this.maxFrameBytes}`);
    }
    if (this.bytes < 4 + head) return undefined;
    const frame = this.take(4 + head).subarray(4);
    try {
      return { value: JSON.parse(frame.toString('utf8')) };
    } catch {
      throw new FrameError(`frame of ${head} bytes is not valid JSON`);
    }
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    return Buffer.concat(this.chunks).readUInt32BE(0);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.bytes -= n;
    return out;
  }
}
