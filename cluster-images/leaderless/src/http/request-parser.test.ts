import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ParseItem, RequestParser } from './request-parser.js';

const parse = (text: string | Buffer, maxBodyBytes = 1024, pieces?: number[]): ParseItem[] => {
  const p = new RequestParser({ maxBodyBytes, maxHeadBytes: 512 });
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const out: ParseItem[] = [];
  let at = 0;
  for (const n of pieces ?? []) {
    out.push(...p.push(bytes.subarray(at, Math.min(bytes.length, at + n))));
    at = Math.min(bytes.length, at + n);
  }
  if (at < bytes.length) out.push(...p.push(bytes.subarray(at)));
  return out;
};

const simple = (items: ParseItem[]) =>
  items.map((i) =>
    i.kind === 'request'
      ? { method: i.method, target: i.target, close: i.close, body: i.body.toString('latin1') }
      : i.kind === 'error'
        ? { error: i.status }
        : { continue: true },
  );

describe('RequestParser', () => {
  it('parses a request line, headers and a content-length body', () => {
    expect(
      simple(parse('PUT /kv/a?w=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{"value":1}')),
    ).toEqual([{ method: 'PUT', target: '/kv/a?w=2', close: false, body: '{"value":1}' }]);
  });

  it('handles pipelined requests in one packet, in order', () => {
    const one = 'GET /kv/a HTTP/1.1\r\nhost: x\r\n\r\n';
    const two = 'PUT /kv/b HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}';
    expect(simple(parse(one + two + one))).toEqual([
      { method: 'GET', target: '/kv/a', close: false, body: '' },
      { method: 'PUT', target: '/kv/b', close: false, body: '{}' },
      { method: 'GET', target: '/kv/a', close: false, body: '' },
    ]);
  });

  it('waits for heads and bodies split across packets, down to single bytes', () => {
    const text = 'POST /set/s HTTP/1.1\r\ncontent-length: 9\r\n\r\n{"add":1}';
    expect(simple(parse(text, 1024, Array(text.length).fill(1)))).toEqual([
      { method: 'POST', target: '/set/s', close: false, body: '{"add":1}' },
    ]);
  });

  it('honours connection: close and HTTP/1.0 defaults, and reads nothing after a close', () => {
    expect(
      simple(parse('GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n')),
    ).toEqual([{ method: 'GET', target: '/', close: true, body: '' }]);
    expect(simple(parse('GET / HTTP/1.0\r\n\r\n'))).toEqual([
      { method: 'GET', target: '/', close: true, body: '' },
    ]);
    expect(simple(parse('GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n'))).toEqual([
      { method: 'GET', target: '/', close: false, body: '' },
    ]);
  });

  it('accepts bare LF line ends, leading empty lines and absolute-form targets', () => {
    expect(simple(parse('\r\nGET /a HTTP/1.1\nhost: x\n\n'))).toEqual([
      { method: 'GET', target: '/a', close: false, body: '' },
    ]);
    expect(simple(parse('GET http://h:1/kv/a?r=1 HTTP/1.1\r\n\r\n'))).toEqual([
      { method: 'GET', target: '/kv/a?r=1', close: false, body: '' },
    ]);
  });

  it('asks for 100-continue only while the body has not started', () => {
    const head = 'PUT /kv/a HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\n';
    const p = new RequestParser({ maxBodyBytes: 100 });
    expect(simple(p.push(Buffer.from(head)))).toEqual([{ continue: true }]);
    expect(simple(p.push(Buffer.from('{}')))).toEqual([
      { method: 'PUT', target: '/kv/a', close: false, body: '{}' },
    ]);
    expect(simple(parse(`${head}{}`))).toEqual([
      { method: 'PUT', target: '/kv/a', close: false, body: '{}' },
    ]);
  });

  it('refuses malformed input with a status and then yields nothing more', () => {
    const cases: Array<[string, number]> = [
      ['GARBAGE\r\n\r\n', 400],
      ['GET /a\r\n\r\n', 400],
      ['GET /a HTTP/1.1 extra\r\n\r\n', 400],
      ['GET a HTTP/1.1\r\n\r\n', 400],
      ['G(T /a HTTP/1.1\r\n\r\n', 400],
      ['GET /a HTTP/2.0\r\n\r\n', 505],
      ['GET /a HTTP/1.1\r\nno colon\r\n\r\n', 400],
      ['GET /a HTTP/1.1\r\n: empty name\r\n\r\n', 400],
      ['GET /a HTTP/1.1\r\nbad name: x\r\n\r\n', 400],
      ['GET /a HTTP/1.1\r\nname : x\r\n\r\n', 400],
      ['GET /a HTTP/1.1\r\nx: 1\r\n folded\r\n\r\n', 400],
      ['GET /a HTTP/1.1\r\nx: a\x01b\r\n\r\n', 400],
      ['PUT /a HTTP/1.1\r\ncontent-length: -1\r\n\r\n', 400],
      ['PUT /a HTTP/1.1\r\ncontent-length: 1e3\r\n\r\n', 400],
      ['PUT /a HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc', 400],
      ['PUT /a HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n', 411],
      ['PUT /a HTTP/1.1\r\ncontent-length: 1025\r\n\r\n', 413],
      [`GET /${'a'.repeat(600)} HTTP/1.1\r\n\r\n`, 431],
      [`GET /a HTTP/1.1\r\nx: ${'a'.repeat(600)}`, 431],
    ];
    for (const [text, status] of cases) {
      const p = new RequestParser({ maxBodyBytes: 1024, maxHeadBytes: 512 });
      const items = p.push(Buffer.from(text, 'latin1'));
      expect({ text, items: simple(items) }).toEqual({ text, items: [{ error: status }] });
      expect(p.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toEqual([]);
    }
  });

  it('answers requests before a malformed one and stops at it', () => {
    expect(simple(parse('GET /a HTTP/1.1\r\n\r\nBAD\r\n\r\nGET /b HTTP/1.1\r\n\r\n'))).toEqual([
      { method: 'GET', target: '/a', close: false, body: '' },
      { error: 400 },
    ]);
  });

  it('accepts an equal repeated content-length and a body of exactly the limit', () => {
    const body = 'x'.repeat(1024);
    expect(
      simple(
        parse(`PUT /a HTTP/1.1\r\ncontent-length: 1024\r\nContent-Length: 1024\r\n\r\n${body}`),
      ),
    ).toEqual([{ method: 'PUT', target: '/a', close: false, body }]);
  });
});

// ------------------------------------------------------------------------------------------
// Property: any sequence of well-formed requests, serialised by an independent writer and cut
// into arbitrary pieces, parses back to exactly those requests; arbitrary bytes never throw.

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const fieldValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/);
const request = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD'),
  target: fc.stringMatching(/^\/[\x21-\x7e]{0,40}$/),
  headers: fc.array(
    fc.tuple(token, fieldValue).filter(
      ([n]) =>
        // framing and connection fields are generated below, not at random
        !['content-length', 'transfer-encoding', 'connection', 'expect'].includes(n.toLowerCase()),
    ),
    { maxLength: 5 },
  ),
  body: fc.uint8Array({ maxLength: 300 }),
  lengthHeader: fc.constantFrom('content-length', 'Content-Length', 'CONTENT-LENGTH'),
  crlf: fc.boolean(),
  ows: fc.constantFrom('', ' ', '\t', '  '),
});
type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;

function serialise(r: Req): Buffer {
  const eol = r.crlf ? '\r\n' : '\n';
  let head = `${r.method} ${r.target} HTTP/1.1${eol}`;
  for (const [n, v] of r.headers) head += `${n}:${r.ows}${v}${r.ows}${eol}`;
  if (r.body.length > 0) head += `${r.lengthHeader}:${r.ows}${r.body.length}${eol}`;
  return Buffer.concat([Buffer.from(head + eol, 'latin1'), Buffer.from(r.body)]);
}

describe('RequestParser properties', () => {
  it('round-trips any pipelined sequence of requests cut at any points', () => {
    fc.assert(
      fc.property(
        fc.array(request, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 40 }),
        (reqs, cuts) => {
          const bytes = Buffer.concat(reqs.map(serialise));
          const items = parse(bytes, 1024, cuts);
          expect(items).toEqual(
            reqs.map((r) => ({
              kind: 'request',
              method: r.method,
              target: r.target,
              close: false,
              body: Buffer.from(r.body),
            })),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes, yields at most one error and nothing after it', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 64 }),
            request.map(serialise),
            fc
              .constantFrom('\r\n', '\n', ':', ' ', 'content-length: 5\r\n')
              .map((s) => Buffer.from(s)),
          ),
          { maxLength: 10 },
        ),
        (parts) => {
          const p = new RequestParser({ maxBodyBytes: 100, maxHeadBytes: 256 });
          const items = parts.flatMap((b) => p.push(Buffer.from(b)));
          const errors = items.filter((i) => i.kind === 'error');
          expect(errors.length).toBeLessThanOrEqual(1);
          if (errors.length === 1) expect(items.at(-1)?.kind).toBe('error');
          for (const i of items)
            if (i.kind === 'request') expect(i.body.length).toBeLessThanOrEqual(100);
        },
      ),
      { numRuns: 500 },
    );
  });
});
