import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientOp, ClientOpStatus } from '../history/client-op.js';
import type { Model } from '../porcupine/index.js';
import { completeModel, UNKNOWN } from '../porcupine/index.js';
import { getHistoryModel, HISTORY_MODEL_NAMES, porcupineModel } from './index.js';

let index = 0;
function op(
  f: string,
  value: unknown,
  result?: unknown,
  status: ClientOpStatus = 'ok',
  key?: string,
): ClientOp {
  const invoke = {
    index: index++,
    time: index,
    process: 1,
    type: 'invoke' as const,
    f,
    value,
    ...(key ? { key } : {}),
  };
  const o: ClientOp = {
    process: 1,
    f,
    status,
    invoke,
    call: index,
    return: index + 1,
    ...(key ? { key } : {}),
  };
  if (status !== 'pending') {
    o.completion = {
      index: index++,
      time: index,
      process: 1,
      type: status === 'ok' ? 'ok' : status,
      f,
      value: result,
    };
  }
  return o;
}

/** Runs client ops in order through a history model; the state, or undefined once one is rejected. */
function run(name: string, ops: ClientOp[], initial?: unknown): unknown {
  const hm = getHistoryModel(name, initial === undefined ? {} : { initial });
  const m = completeModel(hm.model as Model<unknown, unknown, unknown>);
  let s: unknown = m.init();
  for (const o of ops) {
    const { input, output } = hm.toOperation(o);
    s = m.step(s, input, output);
    if (s === undefined) return undefined;
  }
  return m.describeState(s);
}

describe('registry', () => {
  it('knows every model and rejects unknown names', () => {
    expect([...HISTORY_MODEL_NAMES].sort()).toEqual(
      ['append-kv', 'cas-register', 'fifo-queue', 'kv', 'mutex', 'register', 'set'].sort(),
    );
    for (const name of HISTORY_MODEL_NAMES) expect(getHistoryModel(name).name).toBe(name);
    expect(() => getHistoryModel('nope')).toThrow(/unknown model "nope".*register/);
    expect(() => getHistoryModel('set', { initial: 3 })).toThrow(/no configurable initial/);
  });
  it('rebuilds the same model for worker threads', () => {
    const m = completeModel(porcupineModel('cas-register', 5));
    expect(m.describeState(m.init())).toBe('5');
  });
  it('names the f of an operation that does not fit the model', () => {
    expect(() => getHistoryModel('register').toOperation(op('cas', [1, 2]))).toThrow(/f="cas"/);
    expect(() => getHistoryModel('set').toOperation(op('enqueue', 1))).toThrow(/f="enqueue"/);
    expect(() => getHistoryModel('kv').toOperation(op('read', null, 1))).toThrow(/needs a key/);
    expect(() => getHistoryModel('cas-register').toOperation(op('cas', 7))).toThrow(/\[from, to\]/);
  });
  it('gives indeterminate operations the output UNKNOWN', () => {
    expect(getHistoryModel('register').toOperation(op('write', 1, undefined, 'info')).output).toBe(
      UNKNOWN,
    );
    expect(getHistoryModel('set').toOperation(op('read', null, undefined, 'pending')).output).toBe(
      UNKNOWN,
    );
  });
});

describe('register and cas-register', () => {
  it('reads what was written last, starting from nil or the initial value', () => {
    expect(run('register', [op('read', null, null), op('write', 3, 3), op('read', null, 3)])).toBe(
      '3',
    );
    expect(run('register', [op('write', 3, 3), op('read', null, 4)])).toBeUndefined();
    expect(run('cas-register', [op('read', null, 7)], 7)).toBe('7');
    expect(run('cas-register', [op('read', null, null)], 7)).toBeUndefined();
  });
  it('applies an ok cas only from the expected value', () => {
    expect(
      run('cas-register', [op('write', 1, 1), op('cas', [1, 2], [1, 2]), op('read', null, 2)]),
    ).toBe('2');
    expect(run('cas-register', [op('write', 1, 1), op('cas', [3, 2], [3, 2])])).toBeUndefined();
    // An indeterminate cas from the wrong value cannot take effect.
    expect(
      run('cas-register', [op('write', 1, 1), op('cas', [3, 2], undefined, 'info')]),
    ).toBeUndefined();
  });
  it('compares structured values by content', () => {
    expect(
      run('register', [op('write', { a: 1, b: [2] }, null), op('read', null, { b: [2], a: 1 })]),
    ).toBeDefined();
  });
});

describe('kv', () => {
  it('keeps one register per key, partitioned by key', () => {
    const hm = getHistoryModel('kv');
    expect(hm.model.partitionKey!(hm.toOperation(op('read', null, 1, 'ok', 'a')).input)).toBe('a');
    expect(
      run('kv', [
        op('write', 1, 1, 'ok', 'a'),
        op('read', null, null, 'ok', 'b'),
        op('read', null, 1, 'ok', 'a'),
      ]),
    ).toBe('{"a": 1}');
    expect(
      run('kv', [op('write', 1, 1, 'ok', 'a'), op('read', null, 1, 'ok', 'b')]),
    ).toBeUndefined();
    // Writing the initial value back is the initial state again.
    expect(run('kv', [op('write', 1, 1, 'ok', 'a'), op('write', null, null, 'ok', 'a')])).toBe(
      '{}',
    );
  });
});

describe('append-kv', () => {
  it('appends to strings that start empty; get reads the whole string', () => {
    const ops = [
      op('append', 'x', 'x', 'ok', 'k'),
      op('append', 'y', 'y', 'ok', 'k'),
      op('get', null, 'xy', 'ok', 'k'),
      op('put', 'z', 'z', 'ok', 'k'),
      op('get', null, 'z', 'ok', 'k'),
    ];
    expect(run('append-kv', ops)).toBe('{"k": "z"}');
    expect(
      run('append-kv', [op('append', 'x', 'x', 'ok', 'k'), op('get', null, 'yx', 'ok', 'k')]),
    ).toBeUndefined();
    expect(run('append-kv', [op('get', null, '', 'ok', 'k')])).toBe('{}');
  });
  it('gives equal strings built from different pieces equal states and hashes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 3 }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 6 }),
        (pieces, cut) => {
          const m = completeModel(
            getHistoryModel('append-kv').model as Model<unknown, unknown, unknown>,
          );
          const whole = pieces.join('');
          let a: unknown = m.init();
          for (const p of pieces) a = m.step(a, { f: 'append', key: 'k', value: p }, true);
          const at = Math.min(cut, whole.length);
          let b: unknown = m.step(
            m.init(),
            { f: 'append', key: 'k', value: whole.slice(0, at) },
            true,
          );
          b = m.step(b, { f: 'append', key: 'k', value: whole.slice(at) }, true);
          expect(m.equal(a, b)).toBe(true);
          expect(m.hash(a)).toBe(m.hash(b));
          expect(m.step(a, { f: 'get', key: 'k' }, whole)).toBeDefined();
          expect(m.step(a, { f: 'get', key: 'k' }, `${whole}!`)).toBeUndefined();
        },
      ),
    );
  });
});

describe('set', () => {
  it('reads exactly the elements added, in any order, no duplicates', () => {
    const adds = [op('add', 1, 1), op('add', 2, 2), op('add', 1, 1)];
    expect(run('set', [...adds, op('read', null, [2, 1])])).toBeDefined();
    expect(run('set', [...adds, op('read', null, [1])])).toBeUndefined();
    expect(run('set', [...adds, op('read', null, [1, 2, 2])])).toBeUndefined();
    expect(() => run('set', [op('read', null, 5)])).toThrow(/must return an array/);
  });
});

describe('fifo-queue', () => {
  it('dequeues in enqueue order, null when empty', () => {
    const ops = [
      op('enqueue', 1, 1),
      op('enqueue', 2, 2),
      op('dequeue', null, 1),
      op('dequeue', null, 2),
    ];
    expect(run('fifo-queue', [...ops, op('dequeue', null, null)])).toBe('[]');
    expect(
      run('fifo-queue', [op('enqueue', 1, 1), op('enqueue', 2, 2), op('dequeue', null, 2)]),
    ).toBeUndefined();
    expect(run('fifo-queue', [op('enqueue', 1, 1), op('dequeue', null, null)])).toBeUndefined();
  });
});

describe('mutex', () => {
  it('alternates acquire and release', () => {
    expect(run('mutex', [op('acquire', null), op('release', null), op('acquire', null)])).toBe(
      'held',
    );
    expect(run('mutex', [op('acquire', null), op('acquire', null)])).toBeUndefined();
    expect(run('mutex', [op('release', null)])).toBeUndefined();
  });
});
