import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { CommandOutput } from '../command-output.js';

/** What ends each command's output on the shell's stdout: `<marker> <id> <exit code>`. */
const DONE = '@@faultline-done';

/**
 * The shell loop a node's network container runs after `setup`: it reads one line of shell
 * at a time from stdin (the engine's attach stream) and evaluates it. Faults then cost a
 * write on a stream already open plus the command itself (iptables-restore: a few ms), where
 * `docker exec` starts a new process through the runtime (~150 ms) and cannot reach a
 * container whose namespace owner is busy or frozen.
 */
export function shellLoopCommand(setup: string): string[] {
  return ['sh', '-c', `${setup} || exit 1; while IFS= read -r line; do eval "$line"; done`];
}

/** Characters a text may have to travel inside a single-quoted printf format. */
const SAFE = /^[A-Za-z0-9 .,:=/@+*![\]_\n-]*$/;

/**
 * A shell line printing `text` line by line, each line a single-quoted argument (so a line
 * starting with '-' is not an option), ending with a newline. Only SAFE characters.
 */
export function printfOf(text: string): string {
  if (!SAFE.test(text)) {
    throw new Error(`unsafe characters for the network shell: ${JSON.stringify(text)}`);
  }
  const lines = text.replace(/\n$/, '').split('\n');
  return `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')}`;
}

export interface ShellResult {
  code: number;
  output: string;
}

/**
 * A session with the shell loop of one network container, over a hijacked attach stream
 * (stdin in, multiplexed stdout/stderr out). Commands run one at a time, in order.
 */
export class NetShell {
  private nextId = 1;
  private readonly pending = new Map<number, (r: ShellResult) => void>();
  private readonly output = new CommandOutput(DONE, (id, code, output) => {
    const done = this.pending.get(id);
    this.pending.delete(id);
    done?.({ code, output });
  });
  private queue: Promise<unknown> = Promise.resolve();
  private closed: Error | undefined;

  private constructor(private readonly stream: Duplex) {}

  /** Attaches to a created (not yet started) container: nothing it prints is missed. */
  static async attach(docker: Dockerode, containerId: string): Promise<NetShell> {
    const stream = (await docker.getContainer(containerId).attach({
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as unknown as Duplex;
    const shell = new NetShell(stream);
    const sink = { write: (b: Buffer) => shell.output.push(b.toString('utf8')) };
    docker.modem.demuxStream(
      stream,
      sink as unknown as NodeJS.WritableStream,
      sink as unknown as NodeJS.WritableStream,
    );
    const end = (why: string) => shell.fail(new Error(why));
    stream.on('end', () => end('the network container closed its shell'));
    stream.on('close', () => end('the network container closed its shell'));
    stream.on('error', (e: Error) => end(`network shell: ${e.message}`));
    return shell;
  }

  /** Runs one line of shell; resolves with its exit code and output. */
  run(line: string, timeoutMs = 15_000): Promise<ShellResult> {
    if (line.includes('\n')) throw new Error('a network shell command is one line');
    const result = this.queue.then(() => this.send(line, timeoutMs));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** `run`, throwing (naming `what` and the output) unless the command exits 0. */
  async ok(line: string, what: string): Promise<string> {
    const r = await this.run(line);
    if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${r.output.trim()}`);
    return r.output;
  }

  close(): void {
    this.fail(new Error('network shell closed'));
    this.stream.destroy();
  }

  private send(line: string, timeoutMs: number): Promise<ShellResult> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<ShellResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`network shell: no answer to a command in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        if (r.code < 0) reject(new Error(r.output));
        else resolve(r);
      });
      // Output and exit code of the line (stderr folded into stdout), then the marker.
      this.stream.write(`{ ${line} ; } 2>&1; echo "${DONE} ${id} $?"\n`);
    });
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = err;
    for (const [, done] of this.pending) done({ code: -1, output: err.message });
    this.pending.clear();
  }
}
