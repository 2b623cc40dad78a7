import { describe, expect, it } from 'vitest';
import { CommandOutput } from './command-output.js';

describe("a shell's output split by command", () => {
  it('hands each command its lines, however the text is cut', () => {
    const done: [number, number, string][] = [];
    const out = new CommandOutput('@@m', (id, code, output) => done.push([id, code, output]));
    const text = 'a\nb\n@@m 1 0\n@@m 2 3\nc@@m 9 9\n@@m 3 0\n';
    // Cut at every position in two pieces: the result never depends on where.
    for (let cut = 0; cut <= text.length; cut++) {
      done.length = 0;
      out.push(text.slice(0, cut));
      out.push(text.slice(cut));
      expect(done).toEqual([
        [1, 0, 'a\nb\n'],
        [2, 3, ''],
        // A marker not at the start of a line is output.
        [3, 0, 'c@@m 9 9\n'],
      ]);
    }
  });
});
