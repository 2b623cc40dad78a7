import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  candidatePorts,
  checkRunId,
  launchFile,
  linkChain,
  lossRestore,
  offsetText,
  packagesScript,
  parseProbe,
  partitionChain,
  partitionRestore,
  qdiscLines,
  qdiscsFor,
} from './remote.js';

const peers = [
  { node: 'n1', ip: '10.0.0.1' },
  { node: 'n2', ip: '10.0.0.2' },
  { node: 'n3', ip: '10.0.0.3' },
];
const rules = (node: string, grudge: Record<string, string[]>) =>
  partitionRestore({ runId: 'r1', node, grudge, peers, ports: [20000, 20001] })
    .split('\n')
    .filter((l) => l.startsWith('-A'));

describe('remote scripts', () => {
  it('names chains after the run, short enough for iptables, distinct per run', () => {
    expect(partitionChain('a').length).toBeLessThanOrEqual(28);
    expect(partitionChain('a')).not.toBe(partitionChain('b'));
    expect(partitionChain('a')).not.toBe(linkChain('a'));
    expect(() => checkRunId('bad id; rm')).toThrow(/run id/);
  });

  it('cuts b→a on both ends of the pair, only the run traffic, letting SYNs through one-way cuts', () => {
    // n2 drops what comes from n1.
    const on2 = rules('n2', { n2: ['n1'] });
    expect(on2).toEqual([
      expect.stringMatching(
        /^-A \S+ -s 10\.0\.0\.1 .*--ports 20000,20001 .*faultline-run=r1.*--tcp-flags SYN SYN -j RETURN$/,
      ),
      expect.stringMatching(/^-A \S+ -s 10\.0\.0\.1 .*--ports 20000,20001 .*-j DROP$/),
    ]);
    const on1 = rules('n1', { n2: ['n1'] });
    expect(on1).toHaveLength(2);
    expect(on1[1]).toMatch(/-d 10\.0\.0\.2 .*-j DROP$/);
    expect(rules('n3', { n2: ['n1'] })).toEqual([]);
    // Both ways: every packet, no SYN exception.
    const both = rules('n1', { n1: ['n3'], n3: ['n1'] });
    expect(both).toHaveLength(2);
    expect(both.join('\n')).not.toContain('SYN');
    // Healed: the chain declared (so flushed) with nothing in it.
    expect(partitionRestore({ runId: 'r1', node: 'n1', grudge: {}, peers, ports: [1, 2] })).toBe(
      `*filter\n:${partitionChain('r1')} - [0:0]\nCOMMIT\n`,
    );
  });

  it('loss is a statistic rule per peer, and out of [0, 1] is refused', () => {
    const text = lossRestore({ runId: 'r', loss: 0.25, peers: ['10.0.0.2'], ports: [5, 6] });
    expect(text).toMatch(/-d 10\.0\.0\.2 .*--probability 0\.25 -j DROP/);
    expect(lossRestore({ runId: 'r', loss: 0, peers: ['10.0.0.2'], ports: [5, 6] })).not.toContain(
      '-A',
    );
    expect(() => lossRestore({ runId: 'r', loss: 2, peers: [], ports: [5, 6] })).toThrow(/loss/);
  });

  it('bandwidth is a tbf, delay a netem only where the kernel has it', () => {
    expect(qdiscsFor({ rateKbit: 1000 }, false)).toEqual([
      ['root', '1:', 'tbf rate 1000kbit burst 16000 latency 100ms'],
    ]);
    expect(() => qdiscsFor({ delayMs: 50 }, false)).toThrow(/netem/);
    expect(qdiscsFor({ loss: 0.5 }, false)).toEqual([]);
    expect(qdiscsFor({ delayMs: 50, jitterMs: 10, rateKbit: 800 }, true)).toEqual([
      ['root', '1:', 'netem delay 55ms 5ms'],
      ['parent 1:1', '10:', 'tbf rate 800kbit burst 16000 latency 100ms'],
    ]);
    expect(() => qdiscsFor({ rateKbit: 1 }, true)).toThrow(/rateKbit/);
  });

  it('changes qdiscs in place when the shape stays, rebuilds when it changes', () => {
    const a = qdiscsFor({ rateKbit: 1000 }, true);
    const b = qdiscsFor({ rateKbit: 2000 }, true);
    const c = qdiscsFor({ delayMs: 10, rateKbit: 2000 }, true);
    expect(qdiscLines('eth0', a, a)).toEqual([]);
    expect(qdiscLines('eth0', a, b)).toEqual([
      expect.stringMatching(/^tc qdisc replace dev eth0 root handle 1: tbf rate 2000kbit/),
    ]);
    expect(qdiscLines('eth0', b, c)[0]).toBe('tc qdisc del dev eth0 root');
    expect(qdiscLines('eth0', c, [])).toEqual(['tc qdisc del dev eth0 root']);
  });

  it('a launch file run by sh gets its environment and arguments exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-launch-'));
    const file = join(dir, 'launch');
    const hostile = 'it\'s $HOME `x` \\ "q"\nline';
    writeFileSync(
      file,
      launchFile(
        process.execPath,
        [
          '-e',
          'process.stdout.write(JSON.stringify([process.env.V, ...process.argv.slice(1)]))',
          hostile,
          '--x',
        ],
        { V: hostile },
      ),
    );
    expect(JSON.parse(execFileSync('sh', [file], { encoding: 'utf8' }))).toEqual([
      hostile,
      hostile,
      '--x',
    ]);
    expect(() => launchFile('x', [], { 'A;B': '1' })).toThrow(/environment variable name/);
  });

  it('installs only the missing Debian packages, and says why an install failed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-apt-'));
    const log = join(dir, 'apt.log');
    // Stand-ins: dpkg-query knows `have` as installed; apt-get logs its arguments, and fails
    // while FAIL is set.
    writeFileSync(
      join(dir, 'dpkg-query'),
      `#!/bin/sh\nfor a; do p=$a; done\n[ "$p" = have ] && printf 'install ok installed'\nexit 0\n`,
      { mode: 0o755 },
    );
    writeFileSync(
      join(dir, 'apt-get'),
      `#!/bin/sh\necho "$*" >> ${log}\n[ -n "$FAIL" ] && { echo "E: no such package"; exit 100; }\nexit 0\n`,
      { mode: 0o755 },
    );
    const run = (pkgs: string[], fail = '') =>
      execFileSync('sh', ['-c', packagesScript(pkgs)], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FAIL: fail },
      });
    expect(run(['have'])).toBe('');
    expect(existsSync(log)).toBe(false);
    expect(run(['have', 'need'])).toBe('installed: need\n');
    expect(readFileSync(log, 'utf8')).toMatch(/install --no-install-recommends {1,2}need\n$/);
    const failed = (() => {
      try {
        run(['need'], '1');
        return undefined;
      } catch (e) {
        return e as { status: number; stdout: string };
      }
    })();
    expect(failed?.status).toBe(1);
    expect(failed?.stdout).toMatch(/apt-get install need failed:\s+E: no such package/);
    expect(packagesScript([])).toBe('true');
  });

  it('reads a probe', () => {
    const p = parseProbe(
      'kill=1\niptables=1\nloss=0\ntbf=1\nnetem=0\nfaketime=/usr/lib/x/libfaketime.so.1\nports=22,8000,\ndevice=eth0\n',
    );
    expect(p).toEqual({
      kill: true,
      iptables: true,
      loss: false,
      tbf: true,
      netem: false,
      faketime: '/usr/lib/x/libfaketime.so.1',
      ports: new Set([22, 8000]),
      device: 'eth0',
    });
  });

  it('offers distinct port pairs per run, and writes clock offsets as libfaketime reads them', () => {
    const pairs = candidatePorts('run-a');
    expect(new Set(pairs.map(([a]) => a)).size).toBe(pairs.length);
    for (const [c, p] of pairs) expect(p).toBe(c + 1);
    expect(candidatePorts('run-a')[0]).not.toEqual(candidatePorts('run-b')[0]);
    expect(offsetText(3_600_250)).toBe('+3600.250');
    expect(offsetText(-1500)).toBe('-1.500');
  });
});
