import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { CommandShell } from './connection.js';

/**
 * A stand-in for the command shell's channel, evaluating each line written to it as the loop
 * does: the startup marker line prints the marker on stderr, a command prints `out` and its own
 * marker.
 */
function fakeChannel(): ClientChannel {
  const channel = new EventEmitter() as EventEmitter & {
    stderr: EventEmitter;
    write(s: string): boolean;
  };
  channel.stderr = new EventEmitter();
  const lines: string[] = [];
  channel.write = (s: string) => {
    lines.push(s);
    setImmediate(() => {
      const marker = /printf '\\n%s 0 0\\n' (\S+) >&2/.exec(s);
      if (marker !== null) channel.stderr.emit('data', Buffer.from(`\n${marker[1]} 0 0\n`));
      const command = /printf '\\n%s %s %s\\n' (\S+) (\d+) \$\?/.exec(s);
      if (command !== null) {
        channel.emit('data', Buffer.from(`out\n\n${command[1]} ${command[2]} 0\n`));
      }
    });
    return true;
  };
  return channel as unknown as ClientChannel;
}

describe('the command shell', () => {
  it("keeps what the login shell printed while starting out of the first command's output", async () => {
    const noisy = "pyenv: cannot rehash: /root/.pyenv/shims isn't writable\n";
    const channel = fakeChannel();
    const shell = new CommandShell(channel, 'h1');
    // The login shell's rc files print while it starts, before the loop reads its first line.
    channel.stderr.emit('data', Buffer.from(noisy));
    const r = await shell.run('echo out', undefined, 2000);
    expect(r).toEqual({ code: 0, stdout: 'out\n', stderr: '' });
    expect((await shell.run('echo out', undefined, 2000)).stdout).toBe('out\n');
  });
});
