import { readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { CommandOutput } from '../command-output.js';
import type { Inventory, InventoryHost } from './inventory.js';
import { hostVerifier } from './known-hosts.js';
import { shQuote } from './quote.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Text written to the command's stdin, then closed (how rules and files travel: never argv). */
  stdin?: string;
  /** Default: the inventory's commandTimeoutMs. */
  timeoutMs?: number;
  /** Needs root: prefixed with `sudo -n` on a host with `sudo: true`. */
  root?: boolean;
}

/** Concurrent command channels on one connection (OpenSSH allows 10 sessions by default). */
const MAX_EXEC_CHANNELS = 6;

/**
 * One SSH connection to one host, kept open and shared: each command is its own channel on it
 * (several at once), every step has a timeout, the host key is checked against known_hosts.
 * Commands are `sh -c SCRIPT` with the script quoted whole.
 */
export class SshConnection {
  private closedWith: Error | undefined;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private shell: Promise<CommandShell> | undefined;

  private constructor(
    private readonly client: Client,
    readonly host: InventoryHost,
    private readonly commandTimeoutMs: number,
    private readonly onClose: string | undefined,
  ) {
    client.on('close', () => {
      this.closedWith ??= new Error(`ssh ${host.name}: connection closed`);
    });
    client.on('error', (err: Error) => {
      this.closedWith ??= new Error(`ssh ${host.name}: ${err.message}`);
    });
  }

  /**
   * `onClose`: a script the host runs when the command shell's input ends, that is when this
   * connection closes, whether by `close()` or because the harness died (a dead man's switch:
   * the cluster removes its run with it).
   */
  static open(
    host: InventoryHost,
    inventory: Inventory,
    options: { onClose?: string } = {},
  ): Promise<SshConnection> {
    const client = new Client();
    let refused: string | undefined;
    const config: ConnectConfig = {
      host: host.address,
      port: host.port,
      username: host.user,
      readyTimeout: inventory.connectTimeoutMs,
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      hostVerifier: hostVerifier({
        file: inventory.knownHosts,
        host: host.address,
        port: host.port,
        acceptUnknown: inventory.acceptUnknownHosts,
        onRefuse: (why) => {
          refused = why;
        },
      }),
    };
    if (host.key !== undefined) {
      try {
        config.privateKey = readFileSync(host.key);
      } catch (err) {
        return Promise.reject(
          new Error(`ssh ${host.name}: cannot read key ${host.key}: ${(err as Error).message}`),
        );
      }
      if (host.passphraseEnv !== undefined) {
        const passphrase = process.env[host.passphraseEnv];
        if (passphrase === undefined) {
          return Promise.reject(
            new Error(`ssh ${host.name}: ${host.passphraseEnv} (the key's passphrase) is not set`),
          );
        }
        config.passphrase = passphrase;
      }
    }
    if (host.agent) {
      const sock = process.env.SSH_AUTH_SOCK;
      if (sock === undefined) {
        return Promise.reject(
          new Error(`ssh ${host.name}: "agent": true but SSH_AUTH_SOCK is not set`),
        );
      }
      config.agent = sock;
    }
    return new Promise((resolve, reject) => {
      // ssh2's readyTimeout covers the handshake; this one covers everything up to ready.
      const timer = setTimeout(() => {
        client.end();
        reject(
          new Error(`ssh ${host.name}: not connected within ${inventory.connectTimeoutMs} ms`),
        );
      }, inventory.connectTimeoutMs + 1000);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve(new SshConnection(client, host, inventory.commandTimeoutMs, options.onClose));
      });
      client.once('error', (err: Error) => {
        clearTimeout(timer);
        client.end();
        reject(
          new Error(
            `ssh ${host.name} (${host.user}@${host.address}:${host.port}): ${refused ?? err.message}`,
          ),
        );
      });
      try {
        client.connect(config);
      } catch (err) {
        clearTimeout(timer);
        reject(new Error(`ssh ${host.name}: ${(err as Error).message}`));
      }
    });
  }

  get name(): string {
    return this.host.name;
  }

  /** The remote command line for a script (sudo only where asked and configured). */
  private commandLine(script: string, root: boolean): string {
    const sh = `sh -c ${shQuote(script)}`;
    return root && this.host.sudo ? `sudo -n ${sh}` : sh;
  }

  private async channel(): Promise<() => void> {
    if (this.active >= MAX_EXEC_CHANNELS) {
      await new Promise<void>((r) => this.waiting.push(r));
    }
    this.active++;
    return () => {
      this.active--;
      this.waiting.shift()?.();
    };
  }

  /** Runs a script; resolves with its exit code and output (a non-zero code is no error here). */
  async exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.closedWith) throw this.closedWith;
    const release = await this.channel();
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    try {
      return await new Promise<ExecResult>((resolve, reject) => {
        let settled = false;
        let stream: ClientChannel | undefined;
        const timer = setTimeout(() => {
          settled = true;
          stream?.close();
          reject(
            new Error(
              `ssh ${this.name}: no answer within ${timeoutMs} ms to: ${script.slice(0, 120)}`,
            ),
          );
        }, timeoutMs);
        this.client.exec(this.commandLine(script, options.root ?? false), (err, ch) => {
          if (err) {
            clearTimeout(timer);
            if (!settled) reject(new Error(`ssh ${this.name}: ${err.message}`));
            settled = true;
            return;
          }
          stream = ch;
          if (settled) {
            ch.close();
            return;
          }
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          ch.on('data', (b: Buffer) => out.push(b));
          ch.stderr.on('data', (b: Buffer) => errOut.push(b));
          ch.on('close', (code: number | null, signal?: string) => {
            clearTimeout(timer);
            if (settled) return;
            settled = true;
            resolve({
              code: code ?? (signal ? 128 : 255),
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: Buffer.concat(errOut).toString('utf8'),
            });
          });
          ch.end(options.stdin);
        });
      });
    } finally {
      release();
    }
  }

  /**
   * Runs a script in the connection's command shell: one long-lived shell on one channel,
   * fed a line per command, so a command costs a write and the script itself, not a new SSH
   * session (a session is a fork of sshd and a login shell: 100+ ms on a busy host). Commands
   * run one after another; stderr is folded into stdout. Runs as root where `sudo` is set.
   */
  async run(script: string, options: Omit<ExecOptions, 'root'> = {}): Promise<ExecResult> {
    if (this.closedWith) throw this.closedWith;
    this.shell ??= this.openShell();
    const shell = await this.shell;
    try {
      return await shell.run(script, options.stdin, options.timeoutMs ?? this.commandTimeoutMs);
    } catch (err) {
      // A shell that timed out or died is dropped; the next command opens another.
      if (shell.broken) this.shell = undefined;
      throw err;
    }
  }

  private async openShell(): Promise<CommandShell> {
    const release = await this.channel();
    try {
      return await new Promise<CommandShell>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`ssh ${this.name}: no shell within ${this.commandTimeoutMs} ms`)),
          this.commandTimeoutMs,
        );
        // Once its input ends, the shell ignores the hangup and broken pipe that follow a lost
        // connection and runs the close script with no terminal or pipe to write to.
        const loop =
          this.onClose === undefined
            ? SHELL_LOOP
            : `${SHELL_LOOP}\ntrap '' HUP PIPE TERM\n{\n${this.onClose}\n} > /dev/null 2>&1 < /dev/null`;
        this.client.exec(this.commandLine(loop, true), (err, ch) => {
          clearTimeout(timer);
          if (err) return reject(new Error(`ssh ${this.name}: ${err.message}`));
          resolve(new CommandShell(ch, this.name));
        });
      });
    } finally {
      release();
    }
  }

  /** `run`, throwing (naming the host, `what` and the output) unless the script exits 0. */
  async ok(script: string, what: string, options: Omit<ExecOptions, 'root'> = {}): Promise<string> {
    const r = await this.run(script, options);
    if (r.code !== 0) {
      const why = r.stdout.trim().split('\n').slice(-3).join(' / ');
      throw new Error(`${what} on ${this.name}: exit ${r.code}${why ? `: ${why}` : ''}`);
    }
    return r.stdout;
  }

  /**
   * A long-running script whose stdout and stderr are handed over as they come (log tails).
   * Its stdin is left open until `close()`, which ends it and the channel: a script reading
   * stdin learns so, and likewise when the connection is lost. Not counted against the
   * command channels.
   */
  stream(
    script: string,
    onStdout: (b: Buffer) => void,
    onStderr: (b: Buffer) => void,
  ): Promise<{ close(): void }> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`ssh ${this.name}: no channel within ${this.commandTimeoutMs} ms`)),
        this.commandTimeoutMs,
      );
      this.client.exec(this.commandLine(script, false), (err, ch) => {
        clearTimeout(timer);
        if (err) return reject(new Error(`ssh ${this.name}: ${err.message}`));
        ch.on('data', onStdout);
        ch.stderr.on('data', onStderr);
        ch.on('error', () => undefined);
        // stdin stays open: the script may wait for its end to know the channel is gone.
        resolve({
          close: () => {
            ch.end();
            ch.close();
          },
        });
      });
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`ssh ${this.name}: no sftp session within ${this.commandTimeoutMs} ms`)),
        this.commandTimeoutMs,
      );
      this.client.sftp((err, sftp) => {
        clearTimeout(timer);
        if (err) reject(new Error(`ssh ${this.name}: sftp: ${err.message}`));
        else resolve(sftp);
      });
    });
    return this.sftpSession;
  }

  /** Copies a local file to a remote path (over sftp), with its mode; bounded by `timeoutMs`. */
  async upload(local: string, remote: string, mode: number, timeoutMs: number): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`ssh ${this.name}: upload of ${local} took over ${timeoutMs} ms`)),
        timeoutMs,
      );
      sftp.fastPut(local, remote, { mode }, (err) => {
        clearTimeout(timer);
        if (err) reject(new Error(`ssh ${this.name}: upload of ${local}: ${err.message}`));
        else resolve();
      });
    });
  }

  close(): void {
    this.closedWith ??= new Error(`ssh ${this.name}: connection closed`);
    this.client.end();
  }
}

/** Ends each command's output in the command shell: `<marker> <id> <exit code>`. */
const DONE = '@@faultline-done';

/** The command shell: evaluates one line at a time from stdin until stdin closes. */
const SHELL_LOOP = 'while IFS= read -r line; do eval "$line"; done';

/** One command shell on its channel; commands queue and run in order. */
export class CommandShell {
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pending = new Map<number, (r: ExecResult | Error) => void>();
  private readonly output = new CommandOutput(DONE, (id, code, output) => {
    const done = this.pending.get(id);
    this.pending.delete(id);
    // Without our newline before the marker (output may not end in one).
    done?.({ code, stdout: output.slice(0, -1), stderr: '' });
  });
  broken = false;

  constructor(
    private readonly channel: ClientChannel,
    private readonly name: string,
  ) {
    // One decoder: a character split between two chunks is put back together.
    const text = new StringDecoder('utf8');
    channel.on('data', (b: Buffer) => this.output.push(text.write(b)));
    channel.stderr.on('data', (b: Buffer) => this.output.push(text.write(b)));
    channel.on('close', () => this.fail(new Error(`ssh ${name}: the command shell closed`)));
    channel.on('error', (e: Error) => this.fail(new Error(`ssh ${name}: ${e.message}`)));
    // Marker 0 ends what the login shell printed before the loop began (a host's rc files can
    // write there, e.g. a version manager's warnings): none of it belongs to the first command.
    // It goes to stderr, where such noise goes, so that the two arrive in order.
    channel.write(`printf '\\n%s 0 0\\n' ${DONE} >&2\n`);
  }

  run(script: string, stdin: string | undefined, timeoutMs: number): Promise<ExecResult> {
    const result = this.queue.then(() => this.send(script, stdin, timeoutMs));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private send(script: string, stdin: string | undefined, timeoutMs: number): Promise<ExecResult> {
    if (this.broken) return Promise.reject(new Error(`ssh ${this.name}: the command shell closed`));
    const id = this.nextId++;
    // One line: the script and its input travel as base64 (no newline, nothing to escape),
    // and the script runs in its own sh, so that an `exit` or a `cd` ends with it.
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const input = stdin === undefined ? '< /dev/null' : '';
    const feed = stdin === undefined ? '' : `printf %s ${b64(stdin)} | base64 -d | `;
    // The marker goes on a line of its own after a newline of ours (output may not end in one).
    const line = `s=$(printf %s ${b64(script)} | base64 -d); ${feed}sh -c "$s" ${input} 2>&1; printf '\\n%s %s %s\\n' ${DONE} ${id} $?`;
    return new Promise<ExecResult>((resolve, reject) => {
      // A command that overruns is given up on, not killed: closing the shell would end the
      // connection's run on the host (its close script). Later commands queue behind it.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(
            `ssh ${this.name}: no answer within ${timeoutMs} ms to: ${script.slice(0, 120)}`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        if (r instanceof Error) reject(r);
        else resolve(r);
      });
      this.channel.write(`${line}\n`);
    });
  }

  /** Marks the shell unusable, fails what waits on it, and closes its channel. */
  private fail(err: Error): void {
    if (this.broken) return;
    this.broken = true;
    for (const [, done] of this.pending) done(err);
    this.pending.clear();
    this.channel.close();
  }
}
