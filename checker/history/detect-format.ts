/**
 * Telling a history file's format from its first lines (and, when they say nothing, its name).
 * No zod here (./detect.ts adds the schema of a format option): the readers load this.
 */
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { scanEdn } from './edn-forms.js';
import { excerpt, HistoryError } from './errors.js';
import { isJepsenLogOpLine } from './jepsen-log.js';

export const HISTORY_FORMATS = ['jsonl', 'edn', 'jepsen-log', 'edn-lines'] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];
export type HistoryFormatOption = 'auto' | HistoryFormat;
const FORMAT_OPTIONS: ReadonlySet<unknown> = new Set(['auto', ...HISTORY_FORMATS]);

/** Whether `v` names a format, or 'auto' (a check that does without loading zod). */
export function isHistoryFormatOption(v: unknown): v is HistoryFormatOption {
  return FORMAT_OPTIONS.has(v);
}

const HEAD_BYTES = 1 << 16;

const FORMATS_HELP =
  'expected JSON event objects one per line (jsonl), an EDN vector of op maps (edn), EDN op maps one per line (edn-lines) or Jepsen log lines like "INFO  jepsen.util - 0<TAB>:invoke<TAB>:read<TAB>nil" (jepsen-log)';

function byName(file: string): HistoryFormat | undefined {
  switch (extname(file).toLowerCase()) {
    case '.jsonl':
      return 'jsonl';
    case '.edn':
      return 'edn';
    case '.log':
      return 'jepsen-log';
    default:
      return undefined;
  }
}

/** The format of a history whose file name is `file` and whose text starts with `head`. */
export function detectFormatFromText(file: string, head: string): HistoryFormat {
  const lines = (head.startsWith('\uFEFF') ? head.slice(1) : head).split('\n');
  if (lines.slice(0, 200).some(isJepsenLogOpLine)) return 'jepsen-log';
  const first = lines.map((l) => l.trim()).find((l) => l !== '' && !l.startsWith(';'));
  if (first === undefined) {
    const named = byName(file);
    if (named === 'jsonl') return named; // an empty history.jsonl: nothing happened yet
    throw new HistoryError(
      { file },
      `the file has no history in it, so its format cannot be told; ${FORMATS_HELP}`,
    );
  }
  if (/^\{\s*"/.test(first)) return 'jsonl';
  if (first.startsWith('[') || first.startsWith('(')) return 'edn';
  // Jepsen's op records: #jepsen.history.Op{:index 0, ...}
  if (/^#[\w.-]+\s*\{/.test(first)) return 'edn';
  if (/^\{\s*:/.test(first)) {
    try {
      const scan = scanEdn(first, file);
      if (scan.truncated === undefined && scan.top.length === 1 && scan.top[0]!.opener === '{') {
        return 'edn-lines';
      }
    } catch {
      // not a whole map on one line: a map spread over lines
    }
    return 'edn';
  }
  // Content that fits no format: the name decides, and that format's reader says what is wrong.
  const named = byName(file);
  if (named !== undefined) return named;
  throw new HistoryError(
    { file },
    `cannot tell the history format from its first line ${excerpt(first)}: ${FORMATS_HELP}; name the format explicitly (--format)`,
  );
}

/** The format of a history from its first bytes (all of them, or the first 64 KiB or more). */
export function detectFormatFromBytes(file: string, bytes: Buffer): HistoryFormat {
  const n = Math.min(bytes.length, HEAD_BYTES);
  let head = bytes.toString('utf8', 0, n);
  // Drop a last line cut by the read (unless the whole file was read).
  if (n === HEAD_BYTES) head = head.slice(0, Math.max(0, head.lastIndexOf('\n')));
  return detectFormatFromText(file, head);
}

export async function detectFormat(file: string): Promise<HistoryFormat> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return detectFormatFromBytes(file, buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
