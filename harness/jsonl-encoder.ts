import { stringifyJson } from '../checker/history/json.js';
import type { EventInput } from '../core/event.js';

/** The fields written in this order before any extra field (DESIGN.md, "History format"). */
function isKnown(k: string): boolean {
  // Comparisons of internalized strings (pointer checks): cheaper than a Set lookup per field.
  return (
    k === 'process' ||
    k === 'type' ||
    k === 'f' ||
    k === 'key' ||
    k === 'value' ||
    k === 'node' ||
    k === 'index' ||
    k === 'time' ||
    k === 'error'
  );
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const MINUS = 45;
const ZERO = 48;
const NEWLINE = 10;
/** Above this many characters, text goes through Buffer#write (native) rather than a JS loop. */
const NATIVE_AT = 48;

/** "00" to "99": two digits per division. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) =>
  i & 1 ? ZERO + ((i >> 1) % 10) : ZERO + Math.floor(i / 20),
);
/** 1 for the ASCII characters JSON.stringify writes as they are. */
const PLAIN = Uint8Array.from({ length: 128 }, (_, c) =>
  c >= 0x20 && c !== QUOTE && c !== BACKSLASH ? 1 : 0,
);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * A field name label as 32-bit little-endian words and the bytes left over: written with
 * DataView#setUint32, a quarter of the stores of a byte loop (the labels are most of a line).
 */
interface Label {
  readonly words: Uint32Array;
  readonly tail: Uint8Array;
}
function label(s: string): Label {
  const b = ascii(s);
  const n = b.length >> 2;
  const words = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * 4;
    words[i] =
      (b[at] as number) |
      ((b[at + 1] as number) << 8) |
      ((b[at + 2] as number) << 16) |
      ((b[at + 3] as number) << 24);
  }
  return { words, tail: b.subarray(n * 4) };
}
const OPEN_INDEX = label('{"index":');
const TIME = label(',"time":');
const PROCESS = label(',"process":');
const TYPE = label(',"type":');
const F = label(',"f":');
const KEY = label(',"key":');
const VALUE = label(',"value":');
const NODE = label(',"node":');
const ERROR = label(',"error":');
const NULL = ascii('null');

/**
 * Encodes history events as JSON lines straight into one growing Buffer, with no string built
 * per event: field names are written as 32-bit words, values by hand when they are short plain
 * ASCII strings, safe integers, null or short arrays of those (one pass, one bounds check per
 * event for the common event); anything else goes through JSON.stringify. The bytes are
 * exactly `JSON.stringify` of the event with its fields in the documented order (index, time,
 * process, type, f, key, value, node, error, then extra fields in their own order) plus "\n",
 * except that a bigint (which JSON.stringify refuses) is written as a bare integer literal:
 * the history reader reads integers beyond 2^53 back as the same bigints.
 * One exception, which JSON readers do not see: an extra field whose name is an array index
 * ("0", "17") is written after the documented fields, where JSON.stringify would put it first.
 */
export class JsonLineEncoder {
  private buf: Buffer;
  /** A view of `buf` for the labels' word writes. */
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialBytes));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Bytes encoded and not yet taken. */
  get length(): number {
    return this.pos;
  }

  /** The encoded bytes (a view, valid until the next encode), and forgets them. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.pos = 0;
    return out;
  }

  /** Appends `e` as one line, with `index` and `time` first (whatever `e` says about them). */
  encode(e: EventInput, index: number, time: number): void {
    if (this.fast(e, index, time)) return;
    const start = this.pos;
    try {
      this.label(OPEN_INDEX);
      this.number(index);
      this.label(TIME);
      this.number(time);
      this.label(PROCESS);
      this.value(e.process);
      this.label(TYPE);
      this.value(e.type);
      this.label(F);
      this.value(e.f);
      // A field whose JSON.stringify is undefined (a function, a symbol) is left out, as
      // JSON.stringify leaves it out of an object.
      if (e.key !== undefined) this.field(KEY, e.key);
      if (e.value !== undefined) this.field(VALUE, e.value);
      if (e.node !== undefined) this.field(NODE, e.node);
      if (e.error !== undefined) this.field(ERROR, e.error);
      for (const k in e) {
        if (isKnown(k) || !Object.hasOwn(e, k)) continue;
        const v = e[k];
        if (v === undefined) continue;
        const json = stringifyJson(v);
        if (json === undefined) continue;
        this.room(1);
        this.buf[this.pos++] = COMMA;
        this.string(k);
        this.room(1);
        this.buf[this.pos++] = COLON;
        this.text(json);
      }
      this.room(2);
      this.buf[this.pos++] = 125; // }
      this.buf[this.pos++] = NEWLINE;
    } catch (err) {
      // No half line: a value JSON.stringify rejects (a cycle) leaves nothing behind.
      this.pos = start;
      throw err;
    }
  }

  /**
   * The common event, in one pass with no bounds check per byte: every field a short plain
   * string, a safe integer, null or a short array of those, and no extra field. False (nothing
   * written) for anything else, which the general path then writes.
   */
  private fast(e: EventInput, index: number, time: number): boolean {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(time)) return false;
    this.room(FAST_ROOM);
    const buf = this.buf;
    const view = this.view;
    let p = putLabel(view, buf, this.pos, OPEN_INDEX);
    p = putInteger(buf, p, index);
    p = putLabel(view, buf, p, TIME);
    p = putInteger(buf, p, time);
    p = putSimple(buf, putLabel(view, buf, p, PROCESS), e.process);
    if (p < 0) return false;
    p = putSimple(buf, putLabel(view, buf, p, TYPE), e.type);
    if (p < 0) return false;
    p = putSimple(buf, putLabel(view, buf, p, F), e.f);
    if (p < 0) return false;
    if (e.key !== undefined) {
      p = putSimple(buf, putLabel(view, buf, p, KEY), e.key);
      if (p < 0) return false;
    }
    if (e.value !== undefined) {
      p = putSimple(buf, putLabel(view, buf, p, VALUE), e.value);
      if (p < 0) return false;
    }
    if (e.node !== undefined) {
      p = putSimple(buf, putLabel(view, buf, p, NODE), e.node);
      if (p < 0) return false;
    }
    if (e.error !== undefined) {
      p = putSimple(buf, putLabel(view, buf, p, ERROR), e.error);
      if (p < 0) return false;
    }
    for (const k in e) if (!isKnown(k)) return false;
    buf[p++] = 125; // }
    buf[p++] = NEWLINE;
    this.pos = p;
    return true;
  }

  private field(name: Label, v: unknown): void {
    if (
      typeof v === 'string' ||
      typeof v === 'number' ||
      typeof v === 'bigint' ||
      v === null ||
      Array.isArray(v)
    ) {
      this.label(name);
      this.value(v);
      return;
    }
    const json = stringifyJson(v);
    if (json === undefined) return;
    this.label(name);
    this.text(json);
  }

  /** Any value whose JSON.stringify is not undefined (or a bigint: its digits). */
  private value(v: unknown): void {
    if (typeof v === 'string') this.string(v);
    else if (typeof v === 'number') this.number(v);
    else if (v === null) this.bytes(NULL);
    else if (typeof v === 'bigint') this.text(v.toString());
    else if (Array.isArray(v) && this.flatArray(v)) return;
    else this.text(stringifyJson(v) ?? 'null');
  }

  /** An array of safe integers and nulls, written by hand; false (nothing written) otherwise. */
  private flatArray(a: unknown[]): boolean {
    if (a.length > FLAT_MAX) return false;
    this.room(a.length * 18 + 2);
    const p = putFlatArray(this.buf, this.pos, a);
    if (p < 0) return false;
    this.pos = p;
    return true;
  }

  private number(v: number): void {
    if (Number.isSafeInteger(v)) {
      this.room(17);
      this.pos = putInteger(this.buf, this.pos, v);
    } else if (Number.isFinite(v)) this.text(String(v));
    else this.bytes(NULL);
  }

  private string(s: string): void {
    this.room(s.length + 2);
    const p = putPlain(this.buf, this.pos, s);
    if (p < 0) this.text(JSON.stringify(s));
    else this.pos = p;
  }

  /** JSON text as UTF-8 (JSON.stringify escapes lone surrogates, so this is lossless). */
  private text(s: string): void {
    const n = s.length;
    this.room(n * 3);
    if (n > NATIVE_AT) {
      this.pos += this.buf.write(s, this.pos, 'utf8');
      return;
    }
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        this.pos += buf.write(s, this.pos, 'utf8');
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  private bytes(b: Uint8Array): void {
    this.room(b.length);
    this.pos = putBytes(this.buf, this.pos, b);
  }

  private label(l: Label): void {
    this.room(l.words.length * 4 + l.tail.length);
    this.pos = putLabel(this.view, this.buf, this.pos, l);
  }

  /** Makes room for `n` more bytes, growing the buffer (never splitting a line). */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.length);
  }
}

// The writers below put bytes at `p` (the caller made room) and return the position after
// them, or -1 when the value is not theirs to write (the caller then writes it another way).

/** Room for any event the fast path takes (short strings, arrays of at most FLAT_MAX). */
const FLAT_MAX = 16;
const FAST_ROOM = 4096;

function putLabel(view: DataView, buf: Buffer, p: number, l: Label): number {
  const w = l.words;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    view.setUint32(p, w[i] as number, true);
    p += 4;
  }
  const t = l.tail;
  for (let i = 0; i < t.length; i++) buf[p++] = t[i] as number;
  return p;
}

function putBytes(buf: Buffer, p: number, b: Uint8Array): number {
  const n = b.length;
  for (let i = 0; i < n; i++) buf[p++] = b[i] as number;
  return p;
}

/** A short string whose characters are all printable ASCII without `"` or `\`, quoted. */
function putPlain(buf: Buffer, p: number, s: string): number {
  const n = s.length;
  if (n > NATIVE_AT) return -1;
  buf[p++] = QUOTE;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || PLAIN[c] === 0) return -1;
    buf[p++] = c;
  }
  buf[p++] = QUOTE;
  return p;
}

/** A short plain string, a safe integer, null, or an array of at most FLAT_MAX safe integers and nulls. */
function putSimple(buf: Buffer, p: number, v: unknown): number {
  if (typeof v === 'string') return putPlain(buf, p, v);
  if (typeof v === 'number') return Number.isSafeInteger(v) ? putInteger(buf, p, v) : -1;
  if (v === null) return putBytes(buf, p, NULL);
  return Array.isArray(v) ? putFlatArray(buf, p, v) : -1;
}

/** An array of at most FLAT_MAX safe integers and nulls. */
function putFlatArray(buf: Buffer, p: number, v: unknown[]): number {
  const n = v.length;
  if (n > FLAT_MAX) return -1;
  for (let i = 0; i < n; i++) {
    const x: unknown = v[i];
    if (x !== null && !Number.isSafeInteger(x)) return -1;
  }
  buf[p++] = 91; // [
  for (let i = 0; i < n; i++) {
    if (i > 0) buf[p++] = COMMA;
    const x = v[i] as number | null;
    p = x === null ? putBytes(buf, p, NULL) : putInteger(buf, p, x);
  }
  buf[p++] = 93; // ]
  return p;
}

/** A safe integer's decimal digits (-0 as "0", as JSON.stringify writes it): at most 17 bytes. */
function putInteger(buf: Buffer, p: number, v: number): number {
  if (v < 0) {
    buf[p++] = MINUS;
    v = -v;
  }
  if (v < 10) {
    buf[p++] = ZERO + v;
    return p;
  }
  let digits = 2;
  for (let limit = 100; v >= limit && digits < 16; limit *= 10) digits++;
  const end = p + digits;
  let q = end;
  if (v >= 1e8) {
    // The low 8 digits in int32 arithmetic (times are ns: often 10 to 14 digits), then the rest.
    const hi = Math.floor(v / 1e8);
    let lo = (v - hi * 1e8) | 0;
    for (let k = 0; k < 4; k++) {
      const d = (lo / 100) | 0;
      const r = (lo - d * 100) << 1;
      buf[--q] = DIGIT_PAIRS[r + 1] as number;
      buf[--q] = DIGIT_PAIRS[r] as number;
      lo = d;
    }
    v = hi;
  }
  let w = v | 0;
  while (w >= 100) {
    const d = (w / 100) | 0;
    const r = (w - d * 100) << 1;
    buf[--q] = DIGIT_PAIRS[r + 1] as number;
    buf[--q] = DIGIT_PAIRS[r] as number;
    w = d;
  }
  if (w >= 10) {
    buf[--q] = DIGIT_PAIRS[(w << 1) + 1] as number;
    buf[--q] = DIGIT_PAIRS[w << 1] as number;
  } else buf[--q] = ZERO + w;
  return end;
}

/** One event as a JSON line (a string), as the recorder writes it. */
export function encodeLine(e: EventInput, index: number, time: number): string {
  const enc = new JsonLineEncoder(256);
  enc.encode(e, index, time);
  return enc.take().toString('utf8');
}
