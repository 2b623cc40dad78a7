import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientOp } from './history/client-op.js';
import type { Verdict } from './porcupine/types.js';
import {
  combineVerdicts,
  type LinearizabilityOutcome,
  linearizabilityResults,
  readResults,
  writeResults,
} from './results.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-results-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const verdict = fc.constantFrom<Verdict>(true, false, 'unknown');

describe('combineVerdicts', () => {
  it('is false if any is false, else unknown if any is unknown, else true', () => {
    fc.assert(
      fc.property(fc.array(verdict), (vs) => {
        const expected = vs.includes(false) ? false : vs.includes('unknown') ? 'unknown' : true;
        expect(combineVerdicts(vs)).toBe(expected);
      }),
    );
  });
});

function clientOp(index: number, process: number, f: string, value: unknown): ClientOp {
  return {
    process,
    f,
    status: 'ok',
    invoke: { index, time: index, process, type: 'invoke', f },
    completion: { index: index + 1, time: index + 1, process, type: 'ok', f, value },
    call: index,
    return: index + 1,
  };
}

describe('results.json', () => {
  const ops = [clientOp(0, 0, 'write', 1), clientOp(2, 1, 'read', 2)];
  const outcome: LinearizabilityOutcome = {
    valid: false,
    model: 'register',
    operations: 2,
    elapsedMs: 3.5,
    partitions: [
      {
        key: '',
        valid: false,
        operations: 2,
        elapsedMs: 3,
        info: {
          operations: ops.map((o, id) => ({
            clientId: o.process as number,
            input: null,
            output: null,
            call: o.call,
            return: o.return,
            id,
          })),
          initialState: 'null',
          longest: [[{ op: 0, state: '1' }]],
          stuck: [1],
          descriptions: ['write 1', 'read → 2'],
        },
      },
    ],
  };

  it('records the verdict, the evidence of failing partitions and the settings', () => {
    const r = linearizabilityResults({
      history: 'history.jsonl',
      format: 'jsonl',
      warnings: ['w'],
      ops,
      outcome,
      initial: null,
      partitioned: true,
      decideAll: false,
    });
    expect(r.valid).toBe(false);
    expect(r.ops).toBe(2);
    expect(r.partitions).toBe(1);
    const lin = r.checkers.linearizability!;
    expect(lin.initial).toBeNull();
    expect('initial' in lin).toBe(true);
    expect(lin.partitions[0]!.evidence).toEqual({
      linearized: 1,
      stateAfter: '1',
      stuck: [{ index: 2, process: 1, description: 'read → 2' }],
      longestPrefixes: 1,
    });
  });

  it('leaves the initial value out when none was given', () => {
    const r = linearizabilityResults({
      history: 'h',
      format: 'jsonl',
      warnings: [],
      ops,
      outcome: { ...outcome, valid: true, partitions: [] },
      partitioned: false,
      decideAll: true,
    });
    expect('initial' in r.checkers.linearizability!).toBe(false);
  });

  it('round-trips through writeResults and readResults', async () => {
    const r = linearizabilityResults({
      history: 'h',
      format: 'edn',
      warnings: [],
      ops,
      outcome,
      partitioned: true,
      decideAll: true,
      timeoutMs: 1000,
    });
    const file = await writeResults(dir, r);
    expect(await readResults(file)).toEqual(r);
  });

  it('names the file and field of a malformed results.json', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({ faultline: 1, history: 'h', format: 'jsonl', valid: 'yes' }),
    );
    await expect(readResults(file)).rejects.toThrow(/bad\.json: field valid/);
  });
});
