import { describe, expect, it } from 'vitest';
import { healEveryFault } from './cluster.js';

describe('healEveryFault', () => {
  it('undoes only what each node has, resuming and clearing before the heal, starting after it', async () => {
    const calls: string[] = [];
    const cluster = {
      resume: async (n: string) => void calls.push(`resume ${n}`),
      setClock: async (n: string, ms: number) => void calls.push(`clock ${n} ${ms}`),
      setLink: async (n: string, f: object) => void calls.push(`link ${n} ${JSON.stringify(f)}`),
      heal: async () => void calls.push('heal'),
      start: async (n: string) => void calls.push(`start ${n}`),
    };
    await healEveryFault(cluster, [
      { node: 'n1', paused: true, clock: true, down: false },
      { node: 'n2', paused: false, clock: false, down: true },
      { node: 'n3', paused: false, clock: true, down: false },
    ]);
    const heal = calls.indexOf('heal');
    expect(new Set(calls.slice(0, heal))).toEqual(
      new Set(['resume n1', 'clock n1 0', 'link n1 {}', 'link n2 {}', 'clock n3 0', 'link n3 {}']),
    );
    expect(calls.slice(heal)).toEqual(['heal', 'start n2']);
  });
});
