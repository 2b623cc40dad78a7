/**
 * An incremental HTTP/1.1 request parser for the client port: request line, header fields and
 * content-length bodies, any number of requests per connection (keep-alive and pipelining),
 * bytes arriving in arbitrary pieces. It reads only what the store needs (method, target,
 * content-length, connection, expect) and refuses what it does not support with a status:
 *   400 malformed request line, header field or content-length;
 *   411 a transfer-encoding (chunked request bodies are not supported: send content-length);
 *   413 a body larger than the limit;   431 a head larger than the limit;
 *   505 an HTTP version other than 1.0 or 1.1;
 *   503 the server's budget for bodies in transit has no room for this one (see admitBody).
 * After an error the byte stream cannot be resynchronised: the parser yields nothing more and
 * the connection must be answered and closed.
 */

export interface ParsedRequest {
  kind: 'request';
  method: string;
  /** The request target in origin form (`/path?query`). */
  target: string;
  /** The client asked to close after this answer (`connection: close`, or HTTP/1.0 by default). */
  close: boolean;
  /** Empty when the request has no body. */
  body: Buffer;
}

export interface ParseError {
  kind: 'error';
  status: 400 | 411 | 413 | 431 | 503 | 505;
  error: string;
}

/** The client sent `expect: 100-continue` and waits for a go-ahead before sending the body. */
export interface ContinueRequest {
  kind: 'continue';
}

export type ParseItem = ParsedRequest | ParseError | ContinueRequest;

export interface ParserLimits {
  maxBodyBytes: number;
  /** Largest request line plus header fields (bytes). */
  maxHeadBytes?: number;
  /**
   * Asked once per request with a body, when its head has arrived and before any body byte is
   * kept: whether `bytes` more may be buffered. Refused → a 503 error and nothing more is read.
   */
  admitBody?: (bytes: number) => boolean;
}

export const DEFAULT_MAX_HEAD_BYTES = 16 * 1024;

interface Head {
  method: string;
  target: string;
  close: boolean;
  length: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\s]+) HTTP\/(\d)\.(\d)$/;
/** Control characters other than horizontal tab may not appear in a field value. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is exactly what it matches
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const EMPTY = Buffer.alloc(0);
const LF = 10;
const CR = 13;

export class RequestParser {
  private buf: Buffer = EMPTY;
  /**
   * The body of `head` while it arrives, kept as the chunks received (joined once when complete,
   * so a large body is not copied again for every chunk).
   */
  private bodyChunks: Buffer[] = [];
  private bodyBytes = 0;
  /** A parsed head whose body is still arriving. */
  private head: Head | undefined;
  private failed = false;
  private readonly maxBody: number;
  private readonly maxHead: number;
  private readonly admitBody: (bytes: number) => boolean;

  constructor(limits: ParserLimits) {
    this.maxBody = limits.maxBodyBytes;
    this.maxHead = limits.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
    this.admitBody = limits.admitBody ?? (() => true);
  }

  /** Bytes received but not yet part of a complete request. */
  get buffered(): number {
    return this.buf.length + this.bodyBytes;
  }

  /** Feeds bytes; returns the requests (and at most one error, last) they complete, in order. */
  push(chunk: Buffer): ParseItem[] {
    if (this.failed) return [];
    if (this.head !== undefined && this.bodyBytes + chunk.length < this.head.length) {
      // Still inside a body: keep the chunk, join later.
      this.bodyChunks.push(chunk);
      this.bodyBytes += chunk.length;
      return [];
    }
    if (this.bodyBytes > 0) {
      this.bodyChunks.push(chunk);
      this.buf = Buffer.concat(this.bodyChunks);
      this.bodyChunks = [];
      this.bodyBytes = 0;
    } else {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    }
    const out: ParseItem[] = [];
    for (;;) {
      if (this.head === undefined) {
        const parsed = this.parseHead();
        if (parsed === undefined) break;
        if ('kind' in parsed) {
          out.push(parsed);
          this.fail();
          break;
        }
        this.head = parsed.head;
        if (parsed.expectContinue && parsed.head.length > 0 && this.buf.length === 0) {
          out.push({ kind: 'continue' });
        }
      }
      const head = this.head;
      if (this.buf.length < head.length) {
        if (this.buf.length > 0) {
          this.bodyChunks = [this.buf];
          this.bodyBytes = this.buf.length;
          this.buf = EMPTY;
        }
        break;
      }
      const body = head.length === 0 ? EMPTY : this.buf.subarray(0, head.length);
      this.buf = this.buf.length === head.length ? EMPTY : this.buf.subarray(head.length);
      this.head = undefined;
      out.push({
        kind: 'request',
        method: head.method,
        target: head.target,
        close: head.close,
        body,
      });
      if (head.close) {
        // Nothing after a request that closes the connection is read.
        this.fail();
        break;
      }
    }
    return out;
  }

  private fail(): void {
    this.failed = true;
    this.buf = EMPTY;
    this.bodyChunks = [];
    this.bodyBytes = 0;
    this.head = undefined;
  }

  /**
   * Parses the head at the start of the buffer and consumes it; undefined while incomplete.
   * Empty lines before a request line are skipped (RFC 9112 §2.2).
   */
  private parseHead(): { head: Head; expectContinue: boolean } | ParseError | undefined {
    const buf = this.buf;
    let start = 0;
    while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++;
    // Find the empty line ending the head: LF followed by LF or CR LF.
    let end = -1;
    let bodyStart = -1;
    let pos = start;
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      if (lf < 0 || lf + 1 >= buf.length) break;
      if (buf[lf + 1] === LF) {
        end = lf;
        bodyStart = lf + 2;
        break;
      }
      if (buf[lf + 1] === CR) {
        if (lf + 2 >= buf.length) break;
        if (buf[lf + 2] === LF) {
          end = lf;
          bodyStart = lf + 3;
          break;
        }
      }
      pos = lf + 1;
    }
    if (end < 0) {
      if (buf.length - start > this.maxHead) {
        return {
          kind: 'error',
          status: 431,
          error: `request head larger than ${this.maxHead} bytes`,
        };
      }
      if (start > 0) this.buf = buf.subarray(start);
      return undefined;
    }
    if (end - start > this.maxHead) {
      return {
        kind: 'error',
        status: 431,
        error: `request head larger than ${this.maxHead} bytes`,
      };
    }
    const lines = buf.toString('latin1', start, end).split('\n');
    const bad = (error: string): ParseError => ({ kind: 'error', status: 400, error });
    const requestLine = stripCr(lines[0]!);
    const m = REQUEST_LINE.exec(requestLine);
    if (!m) return bad('malformed request line');
    const method = m[1]!;
    let target = m[2]!;
    const major = m[3]!;
    const minor = m[4]!;
    if (major !== '1' || (minor !== '0' && minor !== '1')) {
      return { kind: 'error', status: 505, error: `HTTP/${major}.${minor} is not supported` };
    }
    if (target[0] !== '/') {
      // absolute form (`http://host/path`): keep the path; anything else is not for us
      const abs = /^https?:\/\/[^/?#]*(.*)$/i.exec(target);
      if (!abs) return bad('the request target must be a path');
      target = abs[1] === '' ? '/' : abs[1]!;
      if (target[0] !== '/') target = `/${target}`;
    }
    let close = minor === '0';
    let length = -1;
    let expectContinue = false;
    let transferEncoding = false;
    for (let i = 1; i < lines.length; i++) {
      const line = stripCr(lines[i]!);
      const colon = line.indexOf(':');
      if (colon <= 0) return bad('malformed header field');
      const name = line.slice(0, colon);
      if (!TOKEN.test(name)) return bad('malformed header field name');
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
      if (BAD_VALUE.test(value)) return bad(`control character in header ${name}`);
      switch (name.toLowerCase()) {
        case 'content-length': {
          if (!/^\d{1,15}$/.test(value)) return bad('malformed content-length');
          const n = Number(value);
          if (length >= 0 && length !== n) return bad('conflicting content-length fields');
          length = n;
          break;
        }
        case 'transfer-encoding':
          transferEncoding = true;
          break;
        case 'connection':
          for (const token of value.toLowerCase().split(',')) {
            const t = token.trim();
            if (t === 'close') close = true;
            else if (t === 'keep-alive' && minor === '0') close = false;
          }
          break;
        case 'expect':
          if (value.toLowerCase() === '100-continue') expectContinue = true;
          break;
      }
    }
    if (transferEncoding) {
      return {
        kind: 'error',
        status: 411,
        error: 'transfer-encoding is not supported: send the body with a content-length',
      };
    }
    if (length > this.maxBody) {
      return { kind: 'error', status: 413, error: `body larger than ${this.maxBody} bytes` };
    }
    if (length > 0 && !this.admitBody(length)) {
      return {
        kind: 'error',
        status: 503,
        error: 'too many request bodies in transit at this node; nothing was done, try again',
      };
    }
    this.buf = buf.subarray(bodyStart);
    return {
      head: { method, target, close, length: Math.max(0, length) },
      expectContinue: expectContinue && minor === '1',
    };
  }
}

function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}
