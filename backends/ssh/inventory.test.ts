import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InventoryError, loadInventory, parseInventory } from './inventory.js';

const host = (extra: Record<string, unknown> = {}) => ({
  name: 'h1',
  address: '10.0.0.1',
  key: 'id_ed25519',
  ...extra,
});

describe('inventory', () => {
  it('fills in defaults and resolves paths against the inventory folder', () => {
    const inv = parseInventory(
      { knownHosts: 'known_hosts', hosts: [host(), { address: '10.0.0.2', agent: true }] },
      '/etc/fl',
    );
    expect(inv.knownHosts).toBe('/etc/fl/known_hosts');
    expect(inv.acceptUnknownHosts).toBe(false);
    expect(inv.hosts[0]).toMatchObject({
      name: 'h1',
      port: 22,
      user: 'root',
      key: '/etc/fl/id_ed25519',
      sudo: false,
      workDir: '/tmp/faultline-ssh',
      settings: {},
    });
    // A host without a name is named by its address.
    expect(inv.hosts[1]).toMatchObject({ name: '10.0.0.2', agent: true });
  });

  it('names the entry at fault: index, name and field', () => {
    const bad = (hosts: unknown[]) => () => parseInventory({ knownHosts: 'k', hosts }, '/');
    expect(bad([host(), host({ name: 'db2', port: 70000 })])).toThrow(
      /hosts\[1\] \(db2\) field port/,
    );
    expect(bad([host({ name: 'db3', key: undefined })])).toThrow(
      /hosts\[0\] \(db3\).*key file.*agent/,
    );
    expect(bad([{ address: '10.9.9.9', user: 'Root;x', key: 'k' }])).toThrow(
      /hosts\[0\] \(10\.9\.9\.9\) field user/,
    );
    expect(bad([host({ workDir: 'relative/dir' })])).toThrow(/hosts\[0\] \(h1\) field workDir/);
    expect(bad([host({ password: 'hunter2' })])).toThrow(/hosts\[0\] \(h1\).*password/);
    expect(bad([host(), host({ address: '10.0.0.9' })])).toThrow(
      /hosts\[1\] \(h1\): same name h1 as hosts\[0\]/,
    );
    expect(bad([])).toThrow(/field hosts/);
    expect(() =>
      parseInventory({ knownHosts: 'k', packages: ['ok-pkg', 'rm -rf'], hosts: [host()] }, '/'),
    ).toThrow(/field packages\.1: a Debian package name/);
    expect(() => parseInventory({ hosts: [host()] }, '/')).toThrow(/field knownHosts/);
    expect(bad([host()])).not.toThrow();
  });

  it('a passphrase is named by its environment variable, never given in the file', () => {
    expect(() =>
      parseInventory({ knownHosts: 'k', hosts: [host({ passphraseEnv: 'MY_PASS' })] }, '/'),
    ).not.toThrow();
    expect(() =>
      parseInventory({ knownHosts: 'k', hosts: [host({ passphrase: 'x' })] }, '/'),
    ).toThrow(InventoryError);
  });

  it('reads a file, and says which file when it is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-inv-'));
    const file = join(dir, 'inv.json');
    writeFileSync(file, JSON.stringify({ knownHosts: 'kh', hosts: [host()] }));
    expect(loadInventory(file).knownHosts).toBe(join(dir, 'kh'));
    writeFileSync(file, '{ nope');
    expect(() => loadInventory(file)).toThrow(new RegExp(`inventory ${file}: not JSON`));
    expect(() => loadInventory(join(dir, 'missing.json'))).toThrow(/cannot read it/);
  });
});
