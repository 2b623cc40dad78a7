/**
 * The `list-append` and `rw-register` APIs on etcd (ops `{f: "txn"}`). An op's value is a
 * list of micro-ops (`["append", k, v]`, `["w", k, v]`, `["r", k, null]`); one txn runs as:
 *
 * 1. one POST /v3/kv/txn with a range per key the txn touches (no compares: an atomic
 *    snapshot of those keys, with each key's mod_revision);
 * 2. the micro-ops applied to that snapshot locally, reads filled in;
 * 3. unless nothing is written, one POST /v3/kv/txn comparing every touched key's
 *    mod_revision with what step 1 saw (0: absent) and putting the written keys on success.
 *
 * A txn whose compares fail wrote nothing: `fail`. Step 1 changes nothing, so any failure of
 * it is `fail` too; step 3's ambiguous failures are `info`, as for every etcd write. A list is
 * stored as its JSON text, a register's value likewise.
 */
import {
  type ClientFactory,
  ErrorRegistry,
  failedRead,
  type Op,
  OpError,
} from '../../core/client.js';
import { HttpJsonClient } from '../../core/http-json.js';

type MicroOp = [string, string | number, unknown];

/** The txn's compares did not hold: another txn changed a key in between; nothing was written. */
export class TxnConflict extends OpError {
  constructor() {
    super('txn-conflict', 'a key changed since it was read (txn succeeded: false)');
  }
}

/** etcd's error rules (./system.ts), with a failed compare recorded `fail` before them. */
export function txnErrors(etcdErrors: ErrorRegistry): ErrorRegistry {
  return new ErrorRegistry([
    { name: 'txn conflict', type: 'fail', match: (e) => e instanceof TxnConflict },
    ...etcdErrors.rules,
  ]);
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
/** The etcd key of workload key `k`. */
const etcdKey = (k: string | number) => b64(`/txn/${String(k)}`);

interface RangeKv {
  key?: string;
  value?: string;
  mod_revision?: string;
}
interface TxnReply {
  succeeded?: boolean;
  responses?: { response_range?: { kvs?: RangeKv[] } }[];
}

function isMicroOps(v: unknown): v is MicroOp[] {
  return (
    Array.isArray(v) &&
    v.every(
      (m) =>
        Array.isArray(m) &&
        m.length === 3 &&
        typeof m[0] === 'string' &&
        (typeof m[1] === 'string' || typeof m[1] === 'number'),
    )
  );
}

/** Which workload the client serves: it decides how an absent key reads ([] or nil). */
export type TxnKind = 'list-append' | 'rw-register';

/** `etcdErrors`: the system's rules (passed in: ./system.ts imports this module). */
export function etcdTxnClient(kind: TxnKind, etcdErrors: ErrorRegistry): ClientFactory<Op> {
  const absent = kind === 'list-append' ? [] : null;
  return {
    errors: txnErrors(etcdErrors),
    open(_node, address) {
      const http = new HttpJsonClient(address);
      return {
        async invoke(op, signal) {
          if (op.f !== 'txn' || !isMicroOps(op.value)) {
            throw new OpError('unsupported', `the etcd txn client has no operation ${op.f}`);
          }
          const ops = op.value;
          const keys = [...new Set(ops.map((m) => m[1]))];
          const snapshot = (await failedRead(signal, () =>
            http.call(
              'POST',
              '/v3/kv/txn',
              { success: keys.map((k) => ({ request_range: { key: etcdKey(k) } })) },
              signal,
            ),
          )) as TxnReply | null;
          const state = new Map<string | number, unknown>();
          const revision = new Map<string | number, string>();
          keys.forEach((k, i) => {
            const kv = snapshot?.responses?.[i]?.response_range?.kvs?.[0];
            state.set(k, kv?.value === undefined ? null : JSON.parse(unb64(kv.value)));
            revision.set(k, kv?.mod_revision ?? '0');
          });
          const written = new Set<string | number>();
          const done: MicroOp[] = ops.map(([f, k, v]) => {
            if (f === 'r') return [f, k, state.get(k) ?? absent];
            written.add(k);
            if (f === 'append' && kind === 'list-append') {
              state.set(k, [...((state.get(k) as unknown[] | null) ?? []), v]);
            } else if (f === 'w' && kind === 'rw-register') state.set(k, v);
            else throw new OpError('unsupported', `the etcd txn client has no micro-op ${f}`);
            return [f, k, v];
          });
          if (written.size === 0) return { value: done };
          const reply = (await http.call(
            'POST',
            '/v3/kv/txn',
            {
              compare: keys.map((k) => ({
                key: etcdKey(k),
                target: 'MOD',
                result: 'EQUAL',
                mod_revision: revision.get(k),
              })),
              success: [...written].map((k) => ({
                request_put: { key: etcdKey(k), value: b64(JSON.stringify(state.get(k))) },
              })),
            },
            signal,
          )) as TxnReply | null;
          // proto3 JSON leaves out a false `succeeded`.
          if (reply?.succeeded !== true) throw new TxnConflict();
          return { value: done };
        },
        async close() {
          http.close();
        },
      };
    },
  };
}
