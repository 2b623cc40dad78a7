import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/program.js';
import { describeBackendConformance } from '../../conformance.js';
import { SshConnection } from '../connection.js';
import { probeSync } from '../from-env.js';
import { type Inventory, loadInventory } from '../inventory.js';
import { shCommand } from '../quote.js';
import { packagesScript } from '../remote.js';
import { leftoversOnHosts, openSshBackend, probeInventory } from '../ssh-backend.js';
import { testbed } from './testbed.js';

// Four sshd hosts in network namespaces (the pool test adds a fourth node).
const bed = testbed('conf', '10.231.11', 4);
let inventoryFile = '';
let inventory: Inventory;

beforeAll(() => {
  inventoryFile = bed.up();
  inventory = loadInventory(inventoryFile);
}, 120_000);
afterAll(() => bed.down(), 60_000);

describeBackendConformance(() => openSshBackend({ inventory: inventoryFile }), {
  startTimeoutMs: 30_000,
  leftovers: (runId) => leftoversOnHosts(inventory, runId),
});

describe('ssh backend on the testbed', () => {
  it('probes what the hosts can do: this kernel has no netem, so no link delay', async () => {
    const caps = await probeInventory(inventory);
    expect([...caps].sort()).toEqual([
      'clock',
      'kill',
      'link-bandwidth',
      'link-loss',
      'partition',
      'pause',
    ]);
    // The registry's synchronous probe (a child process) sees the same.
    const sync = probeSync(inventoryFile);
    expect('capabilities' in sync && [...sync.capabilities].sort()).toEqual([...caps].sort());
  });

  it('hands hostile arguments to a remote command unchanged', async () => {
    const conn = await SshConnection.open(inventory.hosts[0]!, inventory);
    try {
      const values = ["it's", '$(id)', '`id`', '"q"', 'a\nb', '; echo no', '\\', '*', ''];
      const line = shCommand(['printf', '%s\\000', ...values]);
      // Through the command shell, and on a channel of its own.
      expect((await conn.ok(line, 'printf')).split('\0').slice(0, -1)).toEqual(values);
      const r = await conn.exec(line);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\0').slice(0, -1)).toEqual(values);
    } finally {
      conn.close();
    }
  });

  it('leaves Debian packages a host has alone (dpkg-query, no apt-get)', async () => {
    const conn = await SshConnection.open(inventory.hosts[0]!, inventory);
    try {
      expect(await conn.ok(packagesScript(['iptables', 'libfaketime']), 'packages')).toBe('');
    } finally {
      conn.close();
    }
  });

  it('refuses a host key it does not know unless told to accept, and then records it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-ssh-kh-'));
    try {
      const knownHosts = join(dir, 'known_hosts');
      writeFileSync(knownHosts, '');
      const host = inventory.hosts[1]!;
      const strict = { ...inventory, knownHosts, acceptUnknownHosts: false };
      await expect(SshConnection.open(host, strict)).rejects.toThrow(
        new RegExp(`${host.name}.*not in ${knownHosts}`),
      );
      const trusting = { ...strict, acceptUnknownHosts: true };
      (await SshConnection.open(host, trusting)).close();
      expect(readFileSync(knownHosts, 'utf8')).toContain(`${host.address} ssh-ed25519 `);
      (await SshConnection.open(host, strict)).close();
      // Another host's key under this host's name: a changed key, refused even when trusting.
      const other = readFileSync(inventory.knownHosts, 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${inventory.hosts[2]!.address} `))!;
      writeFileSync(knownHosts, `${host.address} ${other.split(' ').slice(1).join(' ')}\n`);
      await expect(SshConnection.open(host, trusting)).rejects.toThrow(/differs/);
      copyFileSync(inventory.knownHosts, knownHosts);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Runs crash-child.ts as run `runId` until it is up, then SIGKILLs it. */
  async function crashedHarness(runId: string, logs: string, sw: 'on' | 'off'): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./crash-child.ts', import.meta.url)),
        inventoryFile,
        runId,
        logs,
        sw,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        if (b.toString().includes('up')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`crash child exited ${code}: ${err}`)));
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  it('a SIGKILLed harness leaves nothing: its hosts remove the run when its connections drop', async () => {
    const runId = `crash-on-${process.pid}-${Date.now().toString(36)}`;
    const logs = mkdtempSync(join(tmpdir(), 'fl-ssh-crash-'));
    try {
      await crashedHarness(runId, logs, 'on');
      let left = await leftoversOnHosts(inventory, runId);
      for (let i = 0; i < 100 && left.length > 0; i++) {
        await sleep(100);
        left = await leftoversOnHosts(inventory, runId);
      }
      expect(left).toEqual([]);
    } finally {
      rmSync(logs, { recursive: true, force: true });
    }
  }, 60_000);

  it('`faultline clean --inventory` removes what a SIGKILLed harness left on the hosts', async () => {
    const runId = `crash-off-${process.pid}-${Date.now().toString(36)}`;
    const logs = mkdtempSync(join(tmpdir(), 'fl-ssh-crash-'));
    const out = mkdtempSync(join(tmpdir(), 'fl-ssh-crash-out-'));
    try {
      await crashedHarness(runId, logs, 'off');
      const left = await leftoversOnHosts(inventory, runId);
      expect(left.some((l) => / process /.test(l))).toBe(true);
      expect(left.some((l) => / rule /.test(l))).toBe(true);

      const lines: string[] = [];
      const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
      const code = await runCli(
        ['node', 'faultline', 'clean', '--inventory', inventoryFile, '--out', out],
        io,
      );
      expect(code, lines.join('\n')).toBe(0);
      expect(lines.join('\n')).toContain(`run ${runId}`);
      expect(await leftoversOnHosts(inventory, runId)).toEqual([]);
    } finally {
      rmSync(logs, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
