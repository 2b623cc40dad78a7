import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import type { TreeEntry } from './host-files.js';

/** A file given by its content rather than a host path. */
export interface InlineFile {
  path: string;
  content: string | Buffer;
  mode?: number;
}

const relative = (p: string) => p.replace(/^\/+/, '');

/**
 * A tar stream of `entries` (host files read as they are packed) followed by `inline` files,
 * for the engine's image import and build endpoints. Owner root, fixed mtime: the same inputs
 * give the same archive.
 */
export function tarStream(entries: readonly TreeEntry[], inline: readonly InlineFile[] = []) {
  const p = pack();
  const header = { uid: 0, gid: 0, mtime: new Date(0) };
  void (async () => {
    try {
      for (const e of entries) {
        const name = relative(e.path);
        if (name === '') continue;
        if (e.type === 'directory') {
          p.entry({ ...header, name, type: 'directory', mode: e.mode });
        } else if (e.type === 'symlink') {
          p.entry({ ...header, name, type: 'symlink', linkname: e.target, mode: 0o777 });
        } else {
          const sink = p.entry({ ...header, name, type: 'file', mode: e.mode, size: e.size });
          await pipeline(createReadStream(e.source), sink);
        }
      }
      for (const f of inline) {
        p.entry({ ...header, name: relative(f.path), mode: f.mode ?? 0o644 }, f.content);
      }
      p.finalize();
    } catch (err) {
      p.destroy(err as Error);
    }
  })();
  return p;
}
