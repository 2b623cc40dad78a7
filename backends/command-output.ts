/**
 * The output of a long-lived shell that runs one command after another, split into each
 * command's: a command's output runs until a line `<marker> <id> <exit code>`, which the command
 * line prints after it. Shared by the docker network shell and the ssh command shell.
 */
export class CommandOutput {
  private buffer = '';
  private output = '';
  private readonly done: RegExp;

  constructor(
    marker: string,
    /** A command finished: its id, exit code, and everything printed since the marker before. */
    private readonly onDone: (id: number, code: number, output: string) => void,
  ) {
    this.done = new RegExp(`^${marker} (\\d+) (\\d+)$`);
  }

  /** Text as it arrives (whole characters; lines may be cut anywhere). */
  push(text: string): void {
    this.buffer += text;
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl < 0) return;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const m = this.done.exec(line);
      if (m === null) {
        this.output += `${line}\n`;
        continue;
      }
      const output = this.output;
      this.output = '';
      this.onDone(Number(m[1]), Number(m[2]), output);
    }
  }
}
