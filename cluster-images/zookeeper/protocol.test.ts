import { describe, expect, it } from 'vitest';
import {
  decodeConnectRequest,
  decodeConnectResponse,
  decodeReply,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeReply,
  encodeRequest,
  FrameReader,
  JuteReader,
  JuteWriter,
  MAX_FRAME,
  OpCode,
  ProtocolError,
  readStat,
  replies,
  requests,
  writeStat,
} from './protocol.js';

const body = (frame: Buffer) => {
  const [only, ...rest] = new FrameReader().push(frame);
  expect(rest).toEqual([]);
  return only as Buffer;
};

describe('jute encoding', () => {
  it('writes the handshake byte for byte as ZooKeeper reads it', () => {
    const frame = encodeConnectRequest({
      protocolVersion: 0,
      lastZxidSeen: 0x1_0000_0002n,
      timeoutMs: 4000,
      sessionId: 0n,
      password: Buffer.alloc(16),
      readOnly: false,
    });
    // length 4+8+4+8+(4+16)+1 = 45, then the fields big-endian.
    expect(frame.readInt32BE(0)).toBe(45);
    expect(frame.length).toBe(49);
    expect(frame.readBigInt64BE(8)).toBe(0x1_0000_0002n);
    expect(frame.readInt32BE(16)).toBe(4000);
    expect(frame.readInt32BE(28)).toBe(16);
    expect(frame[48]).toBe(0);
    expect(decodeConnectRequest(body(frame))).toMatchObject({ timeoutMs: 4000, readOnly: false });
  });

  it('reads a ConnectResponse, with or without the read-only flag', () => {
    const r = {
      protocolVersion: 0,
      timeoutMs: 4000,
      sessionId: 0x10000a1e81e0000n,
      password: Buffer.from('0123456789abcdef'),
      readOnly: false,
    };
    expect(decodeConnectResponse(body(encodeConnectResponse(r)))).toEqual(r);
    const old = body(encodeConnectResponse(r)).subarray(0, -1);
    expect(decodeConnectResponse(old).sessionId).toBe(r.sessionId);
  });

  it('encodes setData, create with the open ACL, and requests by header', () => {
    const set = body(
      encodeRequest({ xid: 7, type: OpCode.setData }, (w) =>
        requests.setData(w, '/r/a', Buffer.from('12'), 3),
      ),
    );
    const r = new JuteReader(set);
    expect([r.int(), r.int(), r.string(), r.string(), r.int()]).toEqual([7, 5, '/r/a', '12', 3]);
    r.end('setData');
    const create = new JuteReader(
      body(
        encodeRequest({ xid: 8, type: OpCode.create }, (w) =>
          requests.create(w, '/r', Buffer.alloc(0)),
        ),
      ),
    );
    expect([create.int(), create.int(), create.string(), create.buffer()?.length]).toEqual([
      8,
      1,
      '/r',
      0,
    ]);
    // One ACL: perms 31 (all), world:anyone; then flags 0 (persistent).
    expect([create.int(), create.int(), create.string(), create.string(), create.int()]).toEqual([
      1,
      31,
      'world',
      'anyone',
      0,
    ]);
    create.end('create');
  });

  it('round-trips a reply header, a Stat and getData / getChildren records', () => {
    const stat = {
      czxid: 1n,
      mzxid: 2n,
      ctime: 3n,
      mtime: 4n,
      version: 5,
      cversion: 6,
      aversion: 7,
      ephemeralOwner: 0n,
      dataLength: 2,
      numChildren: 0,
      pzxid: 8n,
    };
    expect(readStat(new JuteReader(writeStat(new JuteWriter(), stat).bytes()))).toEqual(stat);
    const { header, rest } = decodeReply(
      body(
        encodeReply({ xid: 9, zxid: 0x200000005n, err: 0 }, (w) =>
          writeStat(w.buffer(Buffer.from('42')), stat),
        ),
      ),
    );
    expect(header).toEqual({ xid: 9, zxid: 0x200000005n, err: 0 });
    expect(replies.getData(rest)).toEqual({ data: Buffer.from('42'), stat });
    const kids = decodeReply(
      body(encodeReply({ xid: 1, zxid: 1n, err: 0 }, (w) => w.int(2).string('a').string('b'))),
    );
    expect(replies.getChildren(kids.rest)).toEqual(['a', 'b']);
  });
});

describe('jute decoding refuses malformed input', () => {
  it('a frame length below 0 or over the bound is an error at once, not a wait', () => {
    const neg = Buffer.alloc(4);
    neg.writeInt32BE(-5);
    expect(() => new FrameReader().push(neg)).toThrow(ProtocolError);
    expect(() => new FrameReader().push(neg)).toThrow(/bad frame length -5/);
    const huge = Buffer.alloc(4);
    huge.writeInt32BE(MAX_FRAME + 1);
    expect(() => new FrameReader().push(huge)).toThrow(/bad frame length/);
  });

  it('frames split anywhere are put back together; a partial frame waits for the rest', () => {
    const a = encodeReply({ xid: 1, zxid: 1n, err: 0 });
    const b = encodeReply({ xid: 2, zxid: 2n, err: -101 });
    const all = Buffer.concat([a, b]);
    const f = new FrameReader();
    const got = [
      ...f.push(all.subarray(0, 3)),
      ...f.push(all.subarray(3, 20)),
      ...f.push(all.subarray(20)),
    ];
    expect(got.map((g) => decodeReply(g).header.xid)).toEqual([1, 2]);
  });

  it('a field running past the end of its frame, a bad length or count, trailing bytes: errors', () => {
    const w = new JuteWriter().int(10);
    expect(() => new JuteReader(w.bytes()).long()).toThrow(/truncated record/);
    const r = new JuteReader(new JuteWriter().int(100).bytes());
    expect(() => r.buffer('data')).toThrow(/data needs 100 bytes, 0 left/);
    expect(() => new JuteReader(new JuteWriter().int(-7).bytes()).buffer('data')).toThrow(
      /data: bad length -7/,
    );
    expect(() =>
      new JuteReader(new JuteWriter().int(-3).bytes()).vector('children', (x) => x.int()),
    ).toThrow(/children: bad count -3/);
    expect(() => replies.sync(new JuteReader(new JuteWriter().string('/').int(1).bytes()))).toThrow(
      /4 unexpected bytes/,
    );
    expect(() => new JuteReader(Buffer.from([2])).bool('readOnly')).toThrow(/boolean byte/);
  });
});
