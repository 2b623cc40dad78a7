/** Replaces a small file so that a crash leaves either the old or the new content, never a mix. */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** Write to a temporary file, fsync it, rename it over `file`, fsync the folder. */
export function writeDurably(file: string, text: string): void {
  const dir = join(file, '..');
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * The list under `field` of a JSON object written by `writeDurably`; [] when the file does not
 * exist. A file that is there but unreadable is an error naming it (`hint` says what to do).
 */
export function readDurableList(file: string, field: string, hint = ''): unknown[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file}: not valid JSON${hint}`);
  }
  const list = (parsed as Record<string, unknown> | null)?.[field];
  if (!Array.isArray(list)) throw new Error(`${file}: no ${field} list`);
  return list;
}
