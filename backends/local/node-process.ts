import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { NodeId, NodeLaunch } from '../../core/cluster.js';
import { RUN_ENV_VAR } from './registry.js';

export type NodeState = 'down' | 'running' | 'paused';

export interface ExitInfo {
  exitCode: number | undefined;
  signal: string | undefined;
}

/**
 * One node as a child process in its own process group (detached: setsid), so kill, pause and
 * resume signal the node and everything it started. stdout/stderr go straight to
 * `<logDir>/stdout.log|stderr.log` (opened for append, passed as file descriptors): the logs
 * keep growing across restarts and keep working if the harness dies.
 */
export class NodeProcess {
  /** The running process (pid = process group id) and its exit. */
  private child: { pid: number } | undefined;
  private exit: Promise<ExitInfo> | undefined;
  private lastExit: ExitInfo | undefined;
  private paused = false;

  constructor(
    readonly node: NodeId,
    private readonly launch: NodeLaunch,
    readonly logDir: string,
    private readonly runId: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get state(): NodeState {
    if (this.child === undefined) return 'down';
    return this.paused ? 'paused' : 'running';
  }

  /** How the last process exited, if it did. */
  get exited(): ExitInfo | undefined {
    return this.lastExit;
  }

  get stdoutLog(): string {
    return join(this.logDir, 'stdout.log');
  }

  get stderrLog(): string {
    return join(this.logDir, 'stderr.log');
  }

  /** Spawn the node (no-op when it runs). Returns its pid, which is also its process group id. */
  spawn(): number {
    if (this.child !== undefined) return this.child.pid;
    mkdirSync(this.logDir, { recursive: true });
    const out = openSync(this.stdoutLog, 'a');
    const err = openSync(this.stderrLog, 'a');
    const stamp = `--- faultline: starting ${this.node} at ${new Date().toISOString()}\n`;
    writeSync(out, stamp);
    writeSync(err, stamp);
    const subprocess = (() => {
      try {
        return execa(this.launch.command, this.launch.args, {
          env: { ...this.launch.env, [RUN_ENV_VAR]: this.runId },
          extendEnv: true,
          stdin: 'ignore',
          stdout: asFd(out),
          stderr: asFd(err),
          detached: true,
          cleanup: false,
          reject: false,
          buffer: false,
        });
      } finally {
        closeSync(out);
        closeSync(err);
      }
    })();
    const pid = subprocess.pid;
    if (pid === undefined) {
      subprocess.catch(() => undefined);
      throw new Error(
        `node ${this.node}: could not start ${this.launch.command} (see ${this.stderrLog})`,
      );
    }
    const child = { pid };
    this.child = child;
    this.paused = false;
    this.lastExit = undefined;
    this.exit = subprocess.then(
      (r) => ({ exitCode: r.exitCode, signal: r.signal }),
      (e: unknown) => ({ exitCode: undefined, signal: String(e) }),
    );
    void this.exit.then((info) => {
      if (this.child === child) {
        this.child = undefined;
        this.paused = false;
        this.lastExit = info;
      }
    });
    return pid;
  }

  /** Resolves when the current process exits (immediately when down). */
  async waitExit(): Promise<ExitInfo | undefined> {
    if (this.child === undefined) return this.lastExit;
    return this.exit;
  }

  /** SIGKILL the whole process group and wait until the leader is reaped. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    signalGroup(child.pid, 'SIGKILL');
    await this.exit;
  }

  pause(): void {
    const pid = this.requireRunning('pause');
    signalGroup(pid, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    signalGroup(pid, 'SIGCONT');
    this.paused = false;
  }

  private requireRunning(what: string): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error(`cannot ${what} node ${this.node}: it is not running`);
    return pid;
  }
}

/**
 * execa passes any file descriptor number straight to the child (no piping through the
 * harness), but its types only list 1..9; the descriptors here are larger.
 */
function asFd(fd: number): 1 {
  return fd as 1;
}

/** Signal a process group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
