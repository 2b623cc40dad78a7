import { createHmac } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';

/**
 * Host key checking against an OpenSSH known_hosts file: plain, `[host]:port`, hashed
 * (`|1|salt|hmac`) and wildcard patterns with negation; `@revoked` lines refuse a key;
 * `@cert-authority` lines are not used (no certificates here).
 */

export type HostKeyVerdict = 'known' | 'unknown' | 'changed' | 'revoked';

interface Entry {
  marker: '' | '@revoked' | '@cert-authority';
  patterns: string[];
  keyType: string;
  key: Buffer;
}

/** The name known_hosts gives a host at a port: `host`, or `[host]:port` off port 22. */
export const knownHostsName = (host: string, port: number) =>
  port === 22 ? host : `[${host}]:${port}`;

export function parseKnownHosts(text: string): Entry[] {
  const out: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: Entry['marker'] = '';
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields.shift() as Entry['marker'];
    }
    const [hosts, keyType, b64] = fields;
    if (hosts === undefined || keyType === undefined || b64 === undefined) continue;
    out.push({ marker, patterns: hosts.split(','), keyType, key: Buffer.from(b64, 'base64') });
  }
  return out;
}

/** A `*`/`?` wildcard pattern as a regular expression over the whole name. */
function wildcard(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatch(pattern: string, name: string): boolean {
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || salt === undefined || hash === undefined) return false;
  const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return mac === hash;
}

/** Whether a line's host patterns take `name` (a negated match rules the line out). */
export function patternsMatch(patterns: readonly string[], name: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1)).test(name)) return false;
    } else if (p.startsWith('|')) {
      if (hashedMatch(p, name)) hit = true;
    } else if (wildcard(p).test(name)) {
      hit = true;
    }
  }
  return hit;
}

/** The key type named inside an SSH public key blob (its first string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const n = key.readUInt32BE(0);
  return key.subarray(4, 4 + n).toString('latin1');
}

/**
 * What known_hosts says of `key` offered by host:port. A revoked key is refused wherever it
 * appears; a host listed with other keys of the same type has `changed` its key.
 */
export function checkHostKey(
  entries: readonly Entry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  if (entries.some((e) => e.marker === '@revoked' && e.key.equals(key))) return 'revoked';
  const name = knownHostsName(host, port);
  const mine = entries.filter((e) => e.marker === '' && patternsMatch(e.patterns, name));
  if (mine.some((e) => e.key.equals(key))) return 'known';
  const type = keyTypeOf(key);
  return mine.some((e) => e.keyType === type) ? 'changed' : 'unknown';
}

/**
 * A host verifier for one host: reads the file at each check, accepts a listed key, and an
 * unlisted one only when `acceptUnknown` (then it is appended to the file). Never a changed or
 * revoked one. `onRefuse` learns why a key was refused.
 */
export function hostVerifier(options: {
  file: string;
  host: string;
  port: number;
  acceptUnknown: boolean;
  onRefuse: (why: string) => void;
}): (key: Buffer) => boolean {
  return (key) => {
    let text = '';
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !options.acceptUnknown) {
        options.onRefuse(`cannot read known_hosts ${options.file}: ${(err as Error).message}`);
        return false;
      }
    }
    const name = knownHostsName(options.host, options.port);
    const verdict = checkHostKey(parseKnownHosts(text), options.host, options.port, key);
    if (verdict === 'known') return true;
    if (verdict === 'unknown' && options.acceptUnknown) {
      appendFileSync(options.file, `${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`, {
        mode: 0o600,
      });
      return true;
    }
    options.onRefuse(
      verdict === 'unknown'
        ? `host key of ${name} is not in ${options.file} (add it, or set "acceptUnknownHosts": true in the inventory)`
        : verdict === 'changed'
          ? `host key of ${name} differs from the one in ${options.file}: refusing it (a changed host, or someone in between)`
          : `host key of ${name} is revoked in ${options.file}`,
    );
    return false;
  };
}
