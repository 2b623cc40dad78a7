import type Dockerode from 'dockerode';

/** No Docker engine answers: the run cannot start (exit code 3 through the runner's setup error). */
export class DockerUnavailableError extends Error {
  override readonly name = 'DockerUnavailableError';
}

/** Where dockerode will look for the engine (DOCKER_HOST, else the default socket). */
export function engineAddress(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/**
 * A dockerode client for the engine named by DOCKER_HOST (dockerode reads it, and
 * DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, itself), checked with a ping bounded by `timeoutMs`.
 */
export async function connectDocker(timeoutMs = 5000): Promise<Dockerode> {
  // Loaded on first use: the CLI registers this backend but most commands never touch it.
  const { default: DockerodeClass } = await import('dockerode');
  const docker = new DockerodeClass();
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) =>
        timeout.addEventListener('abort', () => reject(new Error(`no answer in ${timeoutMs} ms`))),
      ),
    ]);
  } catch (err) {
    throw new DockerUnavailableError(
      `no Docker engine answers at ${engineAddress()} (${(err as Error).message}). ` +
        'Start one with `sudo scripts/ensure-docker.sh` (installs docker.io and iptables when ' +
        'absent and starts dockerd), or point DOCKER_HOST at a running engine; ' +
        'or use --backend local, which needs no Docker.',
    );
  }
  return docker;
}

/** Status code of an engine API error (404 no such container, 409 conflict, ...). */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** Runs `op`, treating "no such object" (404) and "already in that state" (304) as done. */
export async function idempotent(op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
  } catch (err) {
    const s = statusOf(err);
    if (s === 404 || s === 304) return;
    throw err;
  }
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` in a running container and collects its output and exit code. */
export async function execIn(
  docker: Dockerode,
  containerId: string,
  cmd: string[],
): Promise<ExecResult> {
  const container = docker.getContainer(containerId);
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    docker.modem.demuxStream(
      stream,
      { write: (c: Buffer) => out.push(c) } as unknown as NodeJS.WritableStream,
      { write: (c: Buffer) => err.push(c) } as unknown as NodeJS.WritableStream,
    );
    stream.on('end', () => resolve());
    stream.on('close', () => resolve());
    stream.on('error', reject);
  });
  const info = await exec.inspect();
  return {
    exitCode: info.ExitCode ?? -1,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

/** execIn that throws (with the command and its stderr) unless the command exits 0. */
export async function execOk(
  docker: Dockerode,
  containerId: string,
  cmd: string[],
  what: string,
): Promise<string> {
  const r = await execIn(docker, containerId, cmd);
  if (r.exitCode !== 0) {
    throw new Error(`${what}: exit ${r.exitCode}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** Waits for a build/import progress stream to end; rejects on an error message in it. */
export function followProgress(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => {
      if (err) return reject(err);
      for (const o of output ?? []) {
        const e = (o as { error?: unknown; errorDetail?: { message?: unknown } }) ?? {};
        if (e.error !== undefined) return reject(new Error(String(e.error)));
      }
      resolve();
    });
  });
}
