import { createHash } from 'node:crypto';
import type { Grudge, LinkFault, NodeId } from '../../core/cluster.js';
import { shCommand, shQuote } from './quote.js';

/**
 * What runs on the hosts, as pure text: scripts for `sh -c`, iptables-restore input, tc
 * command lines. Values enter scripts only through `shQuote`/`shCommand`.
 */

/** The environment mark every process of a run carries (what teardown and clean find them by). */
export const RUN_ENV = 'FAULTLINE_RUN_ID';

export function checkRunId(runId: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(runId)) {
    throw new Error(
      `run id ${JSON.stringify(runId)}: use 1-128 letters, digits, '.', '_' or '-' (starting with a letter or digit)`,
    );
  }
}

const short = (runId: string) => createHash('sha256').update(runId).digest('hex').slice(0, 10);

/** The run's chains (iptables names are short: a hash of the run id; comments carry the id). */
export const partitionChain = (runId: string) => `fl-${short(runId)}-p`;
export const linkChain = (runId: string) => `fl-${short(runId)}-l`;
export const runComment = (runId: string) => `faultline-run=${runId}`;

/** The run's folder on a host, and a node's in it. */
export const runDir = (workDir: string, runId: string) => `${workDir}/runs/${runId}`;
export const nodeDir = (workDir: string, runId: string, node: NodeId) =>
  `${runDir(workDir, runId)}/${node}`;

/** The pair of ports a run's nodes use on every host: client, peer (a run id picks the first try). */
export function candidatePorts(runId: string): [number, number][] {
  const first = Number.parseInt(short(runId).slice(0, 6), 16) % 4000;
  return Array.from({ length: 40 }, (_, i) => {
    const base = 20000 + ((first + i * 97) % 4000) * 2;
    return [base, base + 1] as [number, number];
  });
}

/**
 * One script answering everything the backend asks of a host before a run, `key=value` a
 * line: whether iptables (with the statistic, multiport and comment matches) and tc (tbf,
 * netem) work, where libfaketime is, the TCP ports in use, the device towards `peer`.
 * Qdiscs are tried on `lo` only while it has its default one.
 */
export function probeScript(peer: string | undefined): string {
  const chain = 'fl-probe-$$';
  return [
    'echo kill=$(command -v setsid >/dev/null && command -v kill >/dev/null && echo 1 || echo 0)',
    `if iptables -w -N ${chain} 2>/dev/null; then ok=1; iptables -w -A ${chain} -p tcp -m multiport --ports 1,2 -m comment --comment probe -j RETURN 2>/dev/null || ok=0; loss=1; iptables -w -A ${chain} -m statistic --mode random --probability 0.5 -j RETURN 2>/dev/null || loss=0; iptables -w -F ${chain}; iptables -w -X ${chain}; echo iptables=$ok; echo loss=$loss; else echo iptables=0; echo loss=0; fi`,
    'if command -v tc >/dev/null && tc qdisc show dev lo | grep -q noqueue; then tbf=0; tc qdisc add dev lo root handle 1: tbf rate 1000kbit burst 16000 latency 100ms 2>/dev/null && tbf=1 && tc qdisc del dev lo root; netem=0; tc qdisc add dev lo root handle 1: netem delay 0ms 2>/dev/null && netem=1 && tc qdisc del dev lo root; echo tbf=$tbf; echo netem=$netem; else echo tbf=$(command -v tc >/dev/null && echo 1 || echo 0); echo netem=0; fi',
    'f=""; for c in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 /usr/local/lib/faketime/libfaketime.so.1; do [ -e "$c" ] && { f=$c; break; }; done; echo faketime=$f',
    "echo ports=$(ss -Hltn 2>/dev/null | awk '{n=split($4,a,\":\"); print a[n]}' | sort -un | tr '\\n' ',')",
    peer === undefined
      ? 'echo device='
      : `echo device=$(ip -o route get ${shQuote(peer)} 2>/dev/null | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p')`,
    'echo hostname=$(hostname)',
  ].join('\n');
}

export interface HostProbe {
  kill: boolean;
  iptables: boolean;
  loss: boolean;
  tbf: boolean;
  netem: boolean;
  /** libfaketime's path on the host, '' when absent. */
  faketime: string;
  ports: Set<number>;
  device: string;
}

export function parseProbe(text: string): HostProbe {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const yes = (k: string) => kv.get(k) === '1';
  return {
    kill: yes('kill'),
    iptables: yes('iptables'),
    loss: yes('loss'),
    tbf: yes('tbf'),
    netem: yes('netem'),
    faketime: kv.get('faketime') ?? '',
    ports: new Set(
      (kv.get('ports') ?? '')
        .split(',')
        .filter((p) => /^\d+$/.test(p))
        .map(Number),
    ),
    device: kv.get('device') ?? '',
  };
}

/**
 * Installs the Debian packages among `packages` that are not installed (apt-get, refreshing
 * the package lists once if the first try fails; waiting for another apt on the host).
 * Prints `installed: ...` when it installed some.
 */
export function packagesScript(packages: readonly string[]): string {
  if (packages.length === 0) return 'true';
  const apt =
    'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -y -q install --no-install-recommends $missing';
  return [
    'missing=""',
    `for p in ${packages.map(shQuote).join(' ')}; do`,
    `  dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"`,
    'done',
    '[ -z "$missing" ] && exit 0',
    'command -v apt-get > /dev/null || { echo "not a Debian host: cannot install$missing"; exit 1; }',
    `if ! ${apt} > /dev/null 2>&1; then`,
    '  apt-get -o DPkg::Lock::Timeout=120 -q update > /dev/null 2>&1',
    `  out=$(${apt} 2>&1) || { echo "apt-get install$missing failed:"; echo "$out" | tail -n 5; exit 1; }`,
    'fi',
    'echo "installed:$missing"',
  ].join('\n');
}

/** The run's folder, its owner (harness host and pid) and its chains hooked in. Idempotent. */
export function prepareRunScript(o: {
  workDir: string;
  runId: string;
  owner: string;
  iptables: boolean;
}): string {
  const dir = runDir(o.workDir, o.runId);
  const lines = [
    `mkdir -p ${shQuote(dir)}`,
    `printf '%s\\n' ${shQuote(o.owner)} > ${shQuote(`${dir}/owner`)}`,
  ];
  if (o.iptables) {
    const p = partitionChain(o.runId);
    const l = linkChain(o.runId);
    const c = shQuote(runComment(o.runId));
    lines.push(
      `iptables -w -N ${p} 2>/dev/null || true`,
      `iptables -w -N ${l} 2>/dev/null || true`,
      `iptables -w -C INPUT -m comment --comment ${c} -j ${p} 2>/dev/null || iptables -w -I INPUT 1 -m comment --comment ${c} -j ${p}`,
      `iptables -w -C OUTPUT -m comment --comment ${c} -j ${p} 2>/dev/null || iptables -w -I OUTPUT 1 -m comment --comment ${c} -j ${p}`,
      `iptables -w -C OUTPUT -m comment --comment ${c} -j ${l} 2>/dev/null || iptables -w -A OUTPUT -m comment --comment ${c} -j ${l}`,
    );
  }
  return `set -e\n${lines.join('\n')}`;
}

/**
 * Removes what run `runId` has on a host: its processes (by their environment mark, the
 * process groups first), its chains and the jumps to them, a qdisc it set, its folder.
 * Safe to run twice, and on a host the run never reached.
 */
export function removeRunScript(workDir: string, runId: string): string {
  const dir = runDir(workDir, runId);
  const p = partitionChain(runId);
  const l = linkChain(runId);
  const c = shQuote(runComment(runId));
  const mark = shQuote(`${RUN_ENV}=${runId}`);
  return [
    `for f in ${shQuote(dir)}/*/pid; do [ -s "$f" ] && kill -s KILL -- "-$(cat "$f")" 2>/dev/null; done`,
    `pids=$(grep -lzxF ${mark} /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3)`,
    '[ -n "$pids" ] && kill -s KILL $pids 2>/dev/null',
    `if command -v iptables >/dev/null; then`,
    `  for t in INPUT OUTPUT; do for ch in ${p} ${l}; do while iptables -w -D $t -m comment --comment ${c} -j $ch 2>/dev/null; do :; done; done; done`,
    `  for ch in ${p} ${l}; do iptables -w -F $ch 2>/dev/null; iptables -w -X $ch 2>/dev/null; done`,
    'fi',
    `[ -s ${shQuote(`${dir}/qdisc-device`)} ] && tc qdisc del dev "$(cat ${shQuote(`${dir}/qdisc-device`)})" root 2>/dev/null`,
    `rm -rf ${shQuote(dir)}`,
    'true',
  ].join('\n');
}

/**
 * What of run `runId` is on a host, one line each: processes with its mark, its chains, its
 * folder (empty output: nothing).
 */
export function leftoversScript(workDir: string, runId: string): string {
  const mark = shQuote(`${RUN_ENV}=${runId}`);
  return [
    `for f in $(grep -lzxF ${mark} /proc/[0-9]*/environ 2>/dev/null); do echo "process $(echo $f | cut -d/ -f3)"; done`,
    `iptables -w -S 2>/dev/null | grep -e ${partitionChain(runId)} -e ${linkChain(runId)} | sed 's/^/rule /'`,
    `[ -e ${shQuote(runDir(workDir, runId))} ] && echo folder ${shQuote(runDir(workDir, runId))}`,
    'true',
  ].join('\n');
}

/**
 * Every run a host holds something of, `run <id> <owner>` a line (owner: what the run wrote
 * in its folder, '-' when it has no folder): from run folders, chain comments, process marks.
 */
export function listRunsScript(workDir: string): string {
  const runs = shQuote(`${workDir}/runs`);
  return [
    `{ ls ${runs} 2>/dev/null`,
    `iptables -w -S 2>/dev/null | sed -n 's/.*faultline-run=\\([A-Za-z0-9._-]*\\).*/\\1/p'`,
    `cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | sed -n 's/^${RUN_ENV}=//p'`,
    '} | sort -u | while read -r r; do',
    `  o=$(cat ${runs}/"$r"/owner 2>/dev/null || echo -); echo "run $r $o"`,
    'done',
  ].join('\n');
}

/**
 * Starts a node under its supervisor: a new session (setsid), so the shell and everything the
 * node starts share one process group whose id is in `pid`; output appended to stdout.log and
 * stderr.log; the exit code written to `exit`. The node's command and environment come from
 * the `launch` file beside them (written through stdin: no value on a command line). Prints
 * the group id once the pid file exists.
 */
export function startScript(dir: string, runId: string): string {
  const d = shQuote(dir);
  const supervisor = [
    'echo $$ > pid.new && mv pid.new pid',
    'sh ./launch >> stdout.log 2>> stderr.log < /dev/null',
    'echo $? > exit.new && mv exit.new exit',
  ].join('; ');
  return [
    `cd ${d} || exit 1`,
    'rm -f pid exit',
    `${RUN_ENV}=${shQuote(runId)} setsid sh -c ${shQuote(supervisor)} > /dev/null 2>&1 < /dev/null &`,
    'i=0; while [ ! -s pid ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done',
    'cat pid',
  ].join('\n');
}

/** The `launch` file: the environment exported, then the node's command. */
export function launchFile(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
): string {
  const lines = Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw new Error(`bad environment variable name ${JSON.stringify(k)}`);
    return `export ${k}=${shQuote(v)}`;
  });
  lines.push(`exec ${shCommand([command, ...args])}`);
  return `${lines.join('\n')}\n`;
}

/** Whether process group $1 has a live member (zombies do not count): a shell function. */
const GROUP_ALIVE = `alive() { sed 's/.*) //' /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" '$3==g && $1!="Z"{f=1} END{exit !f}'; }`;

/** SIGKILL of the node's process group; waits until no member lives. */
export function killScript(dir: string): string {
  return [
    GROUP_ALIVE,
    `cd ${shQuote(dir)} || exit 0`,
    '[ -s pid ] || exit 0',
    'g=$(cat pid)',
    'kill -s KILL -- "-$g" 2>/dev/null',
    'i=0; while alive "$g" && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done',
    'alive "$g" && { echo "process group $g survived SIGKILL" >&2; exit 1; }',
    'rm -f pid',
  ].join('\n');
}

/** SIGSTOP / SIGCONT to the node's process group. */
export function signalScript(dir: string, signal: 'STOP' | 'CONT'): string {
  return `cd ${shQuote(dir)} && [ -s pid ] && kill -s ${signal} -- "-$(cat pid)"`;
}

/** Whether the node's supervisor still runs: prints `running`, `exited CODE` or `down`. */
export function stateScript(dir: string): string {
  return [
    GROUP_ALIVE,
    `cd ${shQuote(dir)} 2>/dev/null || { echo down; exit 0; }`,
    'if [ -s exit ]; then echo "exited $(cat exit)"; elif [ -s pid ] && alive "$(cat pid)"; then echo running; else echo down; fi',
  ].join('\n');
}

/** Writes `text` (from stdin) to `file` atomically. */
export const writeFromStdin = (file: string, mode = '600') =>
  `umask 077; cat > ${shQuote(`${file}.new`)} && chmod ${mode} ${shQuote(`${file}.new`)} && mv ${shQuote(`${file}.new`)} ${shQuote(file)}`;

export interface Peer {
  node: NodeId;
  ip: string;
}

/**
 * The partition rules of the node on one host, as iptables-restore input for the run's chain
 * (declaring it flushes it and nothing else). Only the run's own traffic is touched: packets
 * between the two hosts with one of the run's ports on either end. `grudge[a]` has b: b→a is
 * dropped (on a, INPUT from b; on b, OUTPUT to a). Where only one way is cut, SYN packets pass,
 * so connections open and the other way carries data.
 */
export function partitionRestore(o: {
  runId: string;
  node: NodeId;
  grudge: Grudge;
  peers: readonly Peer[];
  ports: readonly number[];
}): string {
  const ch = partitionChain(o.runId);
  const cut = (from: NodeId, to: NodeId) => (o.grudge[to] ?? []).includes(from);
  const match = `-p tcp -m multiport --ports ${o.ports.join(',')} -m comment --comment "${runComment(o.runId)}"`;
  const lines = ['*filter', `:${ch} - [0:0]`];
  for (const peer of o.peers) {
    if (peer.node === o.node) continue;
    const inbound = cut(peer.node, o.node);
    const outbound = cut(o.node, peer.node);
    if (inbound) {
      if (!outbound) lines.push(`-A ${ch} -s ${peer.ip} ${match} --tcp-flags SYN SYN -j RETURN`);
      lines.push(`-A ${ch} -s ${peer.ip} ${match} -j DROP`);
    }
    if (outbound) {
      if (!inbound) lines.push(`-A ${ch} -d ${peer.ip} ${match} --tcp-flags SYN SYN -j RETURN`);
      lines.push(`-A ${ch} -d ${peer.ip} ${match} -j DROP`);
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** Loss on the run's traffic leaving the node for its peers, as input for the run's link chain. */
export function lossRestore(o: {
  runId: string;
  loss: number;
  peers: readonly string[];
  ports: readonly number[];
}): string {
  if (!(o.loss >= 0 && o.loss <= 1)) throw new Error(`link loss must be in [0, 1], got ${o.loss}`);
  const ch = linkChain(o.runId);
  const lines = ['*filter', `:${ch} - [0:0]`];
  if (o.loss > 0) {
    for (const ip of o.peers) {
      lines.push(
        `-A ${ch} -d ${ip} -p tcp -m multiport --ports ${o.ports.join(',')} -m comment --comment "${runComment(o.runId)}" -m statistic --mode random --probability ${o.loss} -j DROP`,
      );
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** A qdisc: [parent, handle, kind and arguments]. */
export type Qdisc = [string, string, string];

const num = (x: number) => String(Math.round(x * 1000) / 1000);

/** The token bucket's burst: 10 ms at the rate, at least ten full frames. */
export const tbfBurst = (rateKbit: number) =>
  Math.max(16_000, Math.ceil((rateKbit * 1000) / 8 / 100));

/**
 * The qdiscs a link fault needs on the host's device, root first: a netem for delay (and
 * jitter, uniform in [delay, delay + jitter]) where the kernel has it, a tbf for bandwidth
 * (under the netem when both). Delay without netem is refused. Loss is not here (iptables).
 */
export function qdiscsFor(fault: LinkFault, netem: boolean): Qdisc[] {
  const delay = fault.delayMs ?? 0;
  const jitter = fault.jitterMs ?? 0;
  for (const [what, v] of [
    ['delayMs', delay],
    ['jitterMs', jitter],
  ] as const) {
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`link ${what} must be ≥ 0, got ${v}`);
  }
  const out: Qdisc[] = [];
  if (delay > 0 || jitter > 0) {
    if (!netem) throw new Error("link delay needs the kernel's netem qdisc, which this host lacks");
    out.push([
      'root',
      '1:',
      jitter > 0
        ? `netem delay ${num(delay + jitter / 2)}ms ${num(jitter / 2)}ms`
        : `netem delay ${num(delay)}ms`,
    ]);
  }
  if (fault.rateKbit !== undefined) {
    const r = fault.rateKbit;
    if (!(Number.isFinite(r) && r >= 8))
      throw new Error(`link rateKbit must be a number >= 8 (kbit/s), got ${r}`);
    const tbf = `tbf rate ${Math.round(r)}kbit burst ${tbfBurst(Math.round(r))} latency 100ms`;
    out.push(out.length > 0 ? ['parent 1:1', '10:', tbf] : ['root', '1:', tbf]);
  }
  return out;
}

/**
 * The tc lines taking `device` from qdiscs `before` to `after`: in place (`replace`) when the
 * kinds and places stay, else the root deleted and rebuilt; none when nothing changes.
 */
export function qdiscLines(
  device: string,
  before: readonly Qdisc[],
  after: readonly Qdisc[],
): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const shape = (t: readonly Qdisc[]) =>
    t.map(([p, h, a]) => `${p} ${h} ${a.split(' ')[0]}`).join('/');
  const dev = shQuote(device);
  const lines: string[] = [];
  if (before.length > 0 && shape(before) !== shape(after))
    lines.push(`tc qdisc del dev ${dev} root`);
  for (const [parent, handle, args] of after)
    lines.push(`tc qdisc replace dev ${dev} ${parent} handle ${handle} ${args}`);
  return lines;
}

/** libfaketime's settings: the offset from a file, the monotonic clock real, no caching. */
export function faketimeEnv(library: string, clockFile: string): Record<string, string> {
  return {
    LD_PRELOAD: library,
    FAKETIME_TIMESTAMP_FILE: clockFile,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    FAKETIME_NO_CACHE: '1',
  };
}

/** The timestamp file's text for an offset in ms: `+3600.250`. */
export function offsetText(offsetMs: number): string {
  if (!Number.isFinite(offsetMs)) throw new Error(`clock offset must be finite, got ${offsetMs}`);
  const ms = Math.round(offsetMs);
  const abs = Math.abs(ms);
  return `${ms < 0 ? '-' : '+'}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`;
}
