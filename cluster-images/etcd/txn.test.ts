import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkElle } from '../../checker/elle/check.js';
import { txnsOf } from '../../checker/elle/txns.js';
import type { HistoryEvent } from '../../checker/history/event.js';
import { fixedClientContext, type Op } from '../../core/client.js';
import { etcdErrors } from './system.js';
import { type FakeGateway, fakeGateway } from './test/fake-gateway.js';
import { etcdTxnClient, type TxnKind } from './txn.js';

/**
 * The fake gateway as etcd's /v3/kv/txn: compares on mod_revision, then ranges and puts, one
 * revision per write. `between` runs before each txn request (a concurrent writer).
 */
interface Kv {
  value: string;
  mod: number;
}
let store: Map<string, Kv>;
let revision: number;
let between: ((request: number) => void) | undefined;
let requests: number;
let gateway: FakeGateway;

function txn(body: Record<string, unknown>) {
  requests += 1;
  between?.(requests);
  const compare = (body.compare ?? []) as { key: string; mod_revision: string }[];
  const succeeded = compare.every((c) => (store.get(c.key)?.mod ?? 0) === Number(c.mod_revision));
  const requestsToRun = (succeeded ? (body.success ?? []) : []) as Record<
    string,
    { key: string; value?: string }
  >[];
  let wrote = false;
  const responses = requestsToRun.map((r) => {
    if (r.request_range) {
      const kv = store.get(r.request_range.key);
      return {
        response_range: kv
          ? { kvs: [{ key: r.request_range.key, value: kv.value, mod_revision: String(kv.mod) }] }
          : {},
      };
    }
    if (!wrote) revision += 1;
    wrote = true;
    store.set(r.request_put!.key, { value: r.request_put!.value!, mod: revision });
    return { response_put: {} };
  });
  return { status: 200, body: succeeded ? { succeeded, responses } : { responses } };
}

beforeAll(async () => {
  gateway = await fakeGateway((path, body) =>
    path === '/v3/kv/txn' ? txn(body) : { status: 404, body: { error: 'no such path' } },
  );
});
afterAll(() => gateway.close());
beforeEach(() => {
  store = new Map();
  revision = 1;
  requests = 0;
  between = undefined;
});

const open = (kind: TxnKind) =>
  etcdTxnClient(kind, etcdErrors).open(
    'n1',
    gateway.address,
    fixedClientContext({ n1: gateway.address }),
  );
const run = (kind: TxnKind, value: unknown[]) =>
  open(kind).invoke({ f: 'txn', value }, AbortSignal.timeout(5000));

describe('etcd txn client', () => {
  it('reads what earlier txns wrote, and absent keys as [] or nil', async () => {
    const signal = AbortSignal.timeout(5000);
    const la = open('list-append');
    expect(await la.invoke({ f: 'txn', value: [['r', 'x', null]] }, signal)).toEqual({
      value: [['r', 'x', []]],
    });
    await la.invoke(
      {
        f: 'txn',
        value: [
          ['append', 'x', 1],
          ['append', 'x', 2],
        ],
      },
      signal,
    );
    expect(
      await la.invoke(
        {
          f: 'txn',
          value: [
            ['append', 'x', 3],
            ['r', 'x', null],
          ],
        },
        signal,
      ),
    ).toEqual({
      value: [
        ['append', 'x', 3],
        ['r', 'x', [1, 2, 3]],
      ],
    });
    const rw = open('rw-register');
    expect(
      await rw.invoke(
        {
          f: 'txn',
          value: [
            ['r', 'y', null],
            ['w', 'y', 5],
          ],
        },
        signal,
      ),
    ).toEqual({
      value: [
        ['r', 'y', null],
        ['w', 'y', 5],
      ],
    });
    expect(await rw.invoke({ f: 'txn', value: [['r', 'y', null]] }, signal)).toEqual({
      value: [['r', 'y', 5]],
    });
  });

  it('fails a txn whose keys changed after it read them, writing nothing', async () => {
    const signal = AbortSignal.timeout(5000);
    const c = etcdTxnClient('list-append', etcdErrors);
    between = (n) => {
      // Another writer changes x between this txn's read and its commit.
      if (n === 2)
        store.set(Buffer.from('/txn/x').toString('base64'), {
          value: Buffer.from('[9]').toString('base64'),
          mod: ++revision,
        });
    };
    const error = await open('list-append')
      .invoke(
        {
          f: 'txn',
          value: [
            ['r', 'x', null],
            ['append', 'x', 1],
          ],
        },
        signal,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(c.errors.classify(error)).toMatchObject({ type: 'fail', error: /txn conflict/ });
    between = undefined;
    expect(await run('list-append', [['r', 'x', null]])).toEqual({ value: [['r', 'x', [9]]] });
  });

  it('gives concurrent clients a serializable history', async () => {
    const signal = AbortSignal.timeout(20_000);
    const events: HistoryEvent[] = [];
    const record = (process: number, type: HistoryEvent['type'], value: unknown) =>
      events.push({ index: events.length, time: events.length, process, type, f: 'txn', value });
    const c = etcdTxnClient('list-append', etcdErrors);
    let next = 1;
    const worker = async (process: number) => {
      const client = open('list-append');
      for (let i = 0; i < 25; i++) {
        const value: unknown[] = [];
        for (let j = 0; j < 3; j++) {
          const key = ['a', 'b', 'c'][(process + i + j) % 3]!;
          value.push((i + j) % 2 === 0 ? ['append', key, next++] : ['r', key, null]);
        }
        record(process, 'invoke', value);
        try {
          record(process, 'ok', (await client.invoke({ f: 'txn', value } as Op, signal)).value);
        } catch (e) {
          record(process, c.errors.classify(e).type, value);
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    const r = checkElle(txnsOf(events, 'list-append'), { workload: 'list-append' });
    expect(r.anomalyTypes).toEqual([]);
    expect(r.valid).toBe(true);
    expect(events.filter((e) => e.type === 'ok').length).toBeGreaterThan(20);
  });
});
