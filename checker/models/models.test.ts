import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientOp, ClientOpStatus } from '../history/client-op.js';
import type { Key } from '../history/event.js';
import type { Model } from '../porcupine/index.js';
import { completeModel, UNKNOWN } from '../porcupine/index.js';
import { sameKey, sameValue } from '../testing/same-value.js';
import { getHistoryModel, HISTORY_MODEL_NAMES, porcupineModel } from './index.js';
import { canon, elementKey, keyName, showCanon } from './values.js';

let index = 0;
function op(
  f: string,
  value: unknown,
  result?: unknown,
  status: ClientOpStatus = 'ok',
  key?: Key,
): ClientOp {
  const invoke = {
    index: index++,
    time: index,
    process: 1,
    type: 'invoke' as const,
    f,
    value,
    ...(key !== undefined ? { key } : {}),
  };
  const o: ClientOp = {
    process: 1,
    f,
    status,
    invoke,
    call: index,
    return: index + 1,
    ...(key !== undefined ? { key } : {}),
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

/**
 * Values that a canonical form could confuse: strings spelled like its tags or like JSON,
 * numbers and their strings, arrays and their text, integers on both sides of 2^53 as
 * numbers and bigints, -0, NaN, nested structures of them.
 */
const trickyLeaf = fc.oneof(
  fc.constantFrom<unknown>(
    '\u0000json:[1]',
    '\u0000json:1',
    '\u0000str:x',
    '\u0000int:9007199254740993',
    '\u0000NaN',
    '\u0000',
    'x',
    '[1]',
    '1',
    '',
    'nil',
    null,
    true,
    'true',
    0,
    -0,
    1,
    1.5,
    Number.NaN,
    2 ** 53,
    2 ** 60,
    1e21,
    5n,
    0n,
    9007199254740992n,
    9007199254740993n,
    2n ** 60n,
    2n ** 60n + 1n,
    -(2n ** 63n),
    10n ** 21n,
    10n ** 21n + 1n,
  ),
  fc.integer({ min: -3, max: 3 }),
  fc.bigInt({ min: -3n, max: 3n }),
  fc.string({ maxLength: 3 }),
);
const trickyValue = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    trickyLeaf,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', '1'), tie('v'), { maxKeys: 2 }),
  ),
})).v;

/** An equal value of another make: integers swapped between number and bigint, keys reordered. */
function twin(v: unknown): unknown {
  if (typeof v === 'bigint') return BigInt(Number(v)) === v ? Number(v) : v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(twin);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(
      Object.entries(v)
        .reverse()
        .map(([k, x]) => [k, twin(x)]),
    );
  }
  return v;
}

/** Pairs of different values whose texts a careless canonical form could make the same. */
const lookalikes = fc.constantFrom<readonly [unknown, unknown]>(
  ['\u0000json:[1]', [1]],
  ['\u0000json:{"a":1}', { a: 1 }],
  ['\u0000int:9007199254740993', 9007199254740993n],
  ['\u0000NaN', Number.NaN],
  ['1', 1],
  ['[1]', [1]],
  ['9007199254740993', 9007199254740993n],
  [['1'], [1]],
  [2 ** 60, 2n ** 60n + 1n],
  [9007199254740992n, 9007199254740993n],
  [null, 'nil'],
  [true, 'true'],
);

const valuePair = fc.oneof(
  fc.tuple(trickyValue, trickyValue),
  trickyValue.map((a) => [a, twin(a)] as const),
  lookalikes,
);

describe('values compare by type and content', () => {
  it('property: canonical forms are equal exactly when the values are (an independent equality)', () => {
    let equalPairs = 0;
    fc.assert(
      fc.property(valuePair, ([a, b]) => {
        const same = sameValue(a, b);
        if (same) equalPairs++;
        expect(canon(a) === canon(b)).toBe(same);
        expect(elementKey(a) === elementKey(b)).toBe(same);
        // A value always equals itself (NaN included), and a copy of itself.
        expect(canon(a)).toBe(canon(structuredClone(a)));
      }),
      { numRuns: 3000 },
    );
    expect(equalPairs).toBeGreaterThan(100);
  });

  it('property: key names are equal exactly when the keys are, and never ""', () => {
    const key = fc.oneof(
      fc.constantFrom<Key>('', '1', '"1"', '-1', 'NaN', 'Infinity', '9007199254740993', 'a'),
      fc.constantFrom<Key>(1, -1, 0, -0, 1.5, 2 ** 53, 2 ** 60, 1e21, -1e-7),
      fc.constantFrom<Key>(
        9007199254740993n,
        2n ** 60n,
        2n ** 60n + 1n,
        10n ** 21n + 1n,
        2n ** 53n,
      ),
      fc.string({ maxLength: 3 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt(),
    );
    fc.assert(
      fc.property(key, key, (a, b) => {
        expect(keyName(a) === keyName(b)).toBe(sameKey(a, b));
        expect(keyName(a)).not.toBe('');
      }),
      { numRuns: 3000 },
    );
  });

  it('shows values readably', () => {
    expect(showCanon(canon([1, 'a']))).toBe('[1,"a"]');
    expect(showCanon(canon('\u0000json:[1]'))).toBe('"\\u0000json:[1]"');
    expect(showCanon(canon(9007199254740993n))).toBe('9007199254740993');
    expect(showCanon(canon(2 ** 60))).toBe('1152921504606846976');
    expect(showCanon(canon('x'))).toBe('"x"');
    expect(showCanon(canon(null))).toBe('nil');
    expect([keyName('a'), keyName(1), keyName('1'), keyName(9007199254740993n)]).toEqual([
      'a',
      '1',
      '"1"',
      '9007199254740993',
    ]);
  });
});

describe('the models keep types apart', () => {
  it('register: a string spelled like a tagged array is not the array', () => {
    expect(
      run('register', [op('write', [1], [1]), op('read', null, '\u0000json:[1]')]),
    ).toBeUndefined();
    expect(
      run('register', [op('write', '\u0000json:[1]', null), op('read', null, [1])]),
    ).toBeUndefined();
    expect(run('register', [op('write', 1, 1), op('read', null, '1')])).toBeUndefined();
    expect(run('register', [op('write', [1], [1]), op('read', null, [1])])).toBe('[1]');
    expect(
      run('register', [op('write', '\u0000str:x', null), op('read', null, '\u0000str:x')]),
    ).toBe('"\\u0000str:x"');
  });

  it('cas-register: integers beyond 2^53 compare exactly', () => {
    const a = 9007199254740993n;
    const b = 9007199254740992n;
    expect(run('cas-register', [op('write', a, a), op('read', null, b)])).toBeUndefined();
    expect(
      run('cas-register', [op('write', a, a), op('read', null, '9007199254740993')]),
    ).toBeUndefined();
    expect(run('cas-register', [op('write', a, a), op('cas', [b, 1], null)])).toBeUndefined();
    expect(
      run('cas-register', [op('write', a, a), op('cas', [a, 1], null), op('read', null, 1)]),
    ).toBe('1');
    // 5n and 5 are one value, as is 2^53 as a bigint and as a double.
    expect(run('cas-register', [op('write', 5n, null), op('read', null, 5)])).toBe('5');
    expect(run('cas-register', [op('write', b, null), op('read', null, 2 ** 53)])).toBe(
      '9007199254740992',
    );
    expect(run('cas-register', [op('read', null, a)], a)).toBe('9007199254740993');
    expect(run('cas-register', [op('read', null, b)], a)).toBeUndefined();
  });

  it('kv: 1 and "1" are two keys, big integer keys exact', () => {
    expect(run('kv', [op('write', 5, null, 'ok', 1), op('read', null, null, 'ok', '1')])).toBe(
      '{"1": 5}',
    );
    expect(
      run('kv', [op('write', 5, null, 'ok', 1), op('read', null, 5, 'ok', '1')]),
    ).toBeUndefined();
    expect(
      run('kv', [
        op('write', 5, null, 'ok', 9007199254740993n),
        op('read', null, null, 'ok', 9007199254740992n),
      ]),
    ).toBe('{"9007199254740993": 5}');
    const hm = getHistoryModel('kv');
    const names = [1, '1', 9007199254740993n, 9007199254740992n].map((k) =>
      hm.model.partitionKey!(hm.toOperation(op('read', null, 1, 'ok', k)).input),
    );
    expect(new Set(names).size).toBe(4);
  });

  it('append-kv: 1 and "1" are two keys; values must be strings', () => {
    expect(
      run('append-kv', [
        op('append', 'x', null, 'ok', 1),
        op('get', null, '', 'ok', '1'),
        op('get', null, 'x', 'ok', 1),
      ]),
    ).toBe('{"1": "x"}');
    expect(
      run('append-kv', [op('append', 'x', null, 'ok', 1), op('get', null, 'x', 'ok', '1')]),
    ).toBeUndefined();
    expect(() => run('append-kv', [op('put', 1, null, 'ok', 'k')])).toThrow(
      /expected a string value, got 1/,
    );
    expect(() => run('append-kv', [op('get', null, 2n ** 64n, 'ok', 'k')])).toThrow(
      /expected a string value, got 18446744073709551616/,
    );
  });

  it('set and fifo-queue: elements keep their type', () => {
    expect(run('set', [op('add', 1, null), op('read', null, ['1'])])).toBeUndefined();
    expect(run('set', [op('add', [1], null), op('read', null, ['[1]'])])).toBeUndefined();
    expect(
      run('set', [op('add', 9007199254740993n, null), op('read', null, [9007199254740992n])]),
    ).toBeUndefined();
    expect(run('set', [op('add', 1, null), op('add', '1', null), op('read', null, ['1', 1])])).toBe(
      '#{"1" 1}',
    );
    expect(run('fifo-queue', [op('enqueue', 1, null), op('dequeue', null, '1')])).toBeUndefined();
    expect(
      run('fifo-queue', [op('enqueue', 2n ** 64n, null), op('dequeue', null, 2n ** 64n)]),
    ).toBe('[]');
    expect(() => run('set', [op('read', null, 2n ** 64n)])).toThrow(
      /must return an array, got 18446744073709551616/,
    );
  });
});
