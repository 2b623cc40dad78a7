import { describe, expect, it } from 'vitest';
import type { ClientOp } from '../../checker/history/client-op.js';
import { linearizabilityChecker } from '../checkers.js';
import { asRegisterOps } from './index.js';

let index = 0;
/** A completed op from call to ret (ns), with the read's values on completion. */
function op(f: string, call: number, ret: number, value?: unknown, key = 'e0'): ClientOp {
  const invoke = { index: index++, time: call, process: index, type: 'invoke' as const, f, key };
  const completion = {
    index: index++,
    time: ret,
    process: index,
    type: 'ok' as const,
    f,
    key,
    ...(value !== undefined ? { value } : {}),
  };
  return {
    process: invoke.process,
    f,
    key,
    status: 'ok',
    invoke: f === 'write' ? { ...invoke, value } : invoke,
    completion,
    call,
    return: ret,
  };
}

const check = async (ops: ClientOp[]) =>
  (
    await linearizabilityChecker('kv', null, { select: asRegisterOps }).check({
      events: [],
      ops,
    })
  ).result.valid;

describe('eventual-kv reads as register reads', () => {
  it('one value is that value, none is null, several siblings can never be a register read', async () => {
    expect(await check([op('write', 0, 10, 1), op('read', 20, 30, [1])])).toBe(true);
    expect(await check([op('read', 0, 5, []), op('write', 10, 20, 1)])).toBe(true);
    // A read after an acknowledged write that sees nothing: stale, not linearizable.
    expect(await check([op('write', 0, 10, 1), op('read', 20, 30, [])])).toBe(false);
    // Two siblings: concurrent writes both acknowledged, yet a register holds one value.
    expect(
      await check([op('write', 0, 10, 1), op('write', 0, 10, 2), op('read', 20, 30, [2, 1])]),
    ).toBe(false);
  });

  it('only reads and writes are judged (replica reads and others are left out)', () => {
    const kept = asRegisterOps([
      op('write', 0, 1, 1),
      op('replica-read', 2, 3, { node: 'n1', round: 1, keys: {} }),
      op('read', 4, 5, [1]),
    ]);
    expect(kept.map((o) => o.f)).toEqual(['write', 'read']);
    expect(kept[1]!.completion!.value).toBe(1);
  });
});
