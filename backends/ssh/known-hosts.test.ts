import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  hostVerifier,
  keyTypeOf,
  knownHostsName,
  parseKnownHosts,
} from './known-hosts.js';

/** An SSH public key blob of a type (random key material: only equality matters here). */
function blob(type = 'ssh-ed25519'): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  const k = randomBytes(32);
  const klen = Buffer.alloc(4);
  klen.writeUInt32BE(k.length);
  return Buffer.concat([len, t, klen, k]);
}
const line = (names: string, key: Buffer, marker = '') =>
  `${marker ? `${marker} ` : ''}${names} ${keyTypeOf(key)} ${key.toString('base64')}`;

describe('known_hosts', () => {
  const k1 = blob();
  const k2 = blob();
  const rsa = blob('ssh-rsa');

  it('names hosts off port 22 as [host]:port', () => {
    expect(knownHostsName('h', 22)).toBe('h');
    expect(knownHostsName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('knows a listed key, tells an unknown host from a changed key, honours @revoked', () => {
    const entries = parseKnownHosts(
      [
        '# comment',
        line('10.0.0.1,db1', k1),
        line('[10.0.0.2]:2222', k2),
        line('*.example.org,!bad.example.org', k1),
        line('*', rsa, '@revoked'),
      ].join('\n'),
    );
    expect(checkHostKey(entries, '10.0.0.1', 22, k1)).toBe('known');
    expect(checkHostKey(entries, 'db1', 22, k1)).toBe('known');
    expect(checkHostKey(entries, '10.0.0.1', 22, k2)).toBe('changed');
    expect(checkHostKey(entries, '10.0.0.2', 2222, k2)).toBe('known');
    // The same address on port 22 is another host.
    expect(checkHostKey(entries, '10.0.0.2', 22, k2)).toBe('unknown');
    expect(checkHostKey(entries, 'a.example.org', 22, k1)).toBe('known');
    expect(checkHostKey(entries, 'bad.example.org', 22, k1)).toBe('unknown');
    expect(checkHostKey(entries, '10.0.0.1', 22, rsa)).toBe('revoked');
  });

  it('matches hashed names as ssh-keygen -H writes them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-kh-'));
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `${line('10.1.2.3', k1)}\n${line('[10.1.2.4]:2200', k2)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('10.1.2.3');
    const entries = parseKnownHosts(text);
    expect(checkHostKey(entries, '10.1.2.3', 22, k1)).toBe('known');
    expect(checkHostKey(entries, '10.1.2.4', 2200, k2)).toBe('known');
    expect(checkHostKey(entries, '10.1.2.3', 22, k2)).toBe('changed');
    expect(checkHostKey(entries, '10.1.2.5', 22, k1)).toBe('unknown');
  });

  it('accepts an unknown key only when asked, recording it; never a changed one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-kh-'));
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `${line('10.0.0.1', k1)}\n`);
    const why: string[] = [];
    const verifier = (acceptUnknown: boolean, host = '10.0.0.9') =>
      hostVerifier({ file, host, port: 22, acceptUnknown, onRefuse: (w) => why.push(w) });

    expect(verifier(false)(k2)).toBe(false);
    expect(why.pop()).toMatch(/not in .*acceptUnknownHosts/);
    expect(readFileSync(file, 'utf8')).not.toContain('10.0.0.9');

    expect(verifier(true)(k2)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain(`10.0.0.9 ssh-ed25519 ${k2.toString('base64')}`);
    // Recorded: now known without the flag.
    expect(verifier(false)(k2)).toBe(true);

    expect(verifier(true, '10.0.0.1')(k2)).toBe(false);
    expect(why.pop()).toMatch(/differs/);
  });
});
