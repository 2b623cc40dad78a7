import { crc32 } from 'node:zlib';

/**
 * Record framing: `[u32 length][u32 crc32(payload)][payload]`, little-endian. A record is
 * complete only if its whole payload is present and its checksum matches.
 */
export const HEADER_BYTES = 8;
/** Larger lengths are treated as corruption (a torn or garbled header). */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export function encodeFrame(payload: Buffer): Buffer {
  if (payload.length === 0) throw new Error('a log record cannot be empty');
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER_BYTES);
  return out;
}

export interface ScanResult {
  /** Payloads of the complete records, in order (views into the input buffer). */
  records: Buffer[];
  /** Bytes of the input covered by complete records; the rest is a torn or corrupt tail. */
  validBytes: number;
  /** Why scanning stopped early, if it did. */
  problem?: string;
}

export function scanFrames(buf: Buffer): ScanResult {
  const records: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < HEADER_BYTES) {
      return { records, validBytes: off, problem: `torn header at byte ${off}` };
    }
    const len = buf.readUInt32LE(off);
    const sum = buf.readUInt32LE(off + 4);
    if (len === 0) {
      // never written (payloads are never empty): a zero-filled tail left by a crash
      return { records, validBytes: off, problem: `empty record (zeroed bytes?) at byte ${off}` };
    }
    if (len > MAX_RECORD_BYTES) {
      return { records, validBytes: off, problem: `implausible length ${len} at byte ${off}` };
    }
    if (buf.length - off - HEADER_BYTES < len) {
      return { records, validBytes: off, problem: `torn record at byte ${off}` };
    }
    const payload = buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
    if (crc32(payload) !== sum) {
      return { records, validBytes: off, problem: `checksum mismatch at byte ${off}` };
    }
    records.push(payload);
    off += HEADER_BYTES + len;
  }
  return { records, validBytes: off };
}
