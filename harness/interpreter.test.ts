import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../checker/history/event.js';
import { checkWellFormed } from '../checker/history/well-formed.js';
import type { Client, Op } from '../core/client.js';
import { ErrorRegistry, OpError } from '../core/client.js';
import type { EventInput } from '../core/event.js';
import { Rng } from '../core/random.js';
import { each, limit, ops } from '../generators/index.js';
import type { EventSink } from './interpreter.js';
import { interpret, ProcessTable } from './interpreter.js';

/** What a fake client does with its i-th op. */
type Behaviour = 'ok' | 'definite' | 'unknown-error' | 'hang';

function memorySink(): EventSink & { events: HistoryEvent[] } {
  const t0 = process.hrtime.bigint();
  const events: HistoryEvent[] = [];
  return {
    events,
    now: () => Number(process.hrtime.bigint() - t0),
    record(input: EventInput) {
      const e = { ...input, index: events.length, time: this.now() } as HistoryEvent;
      events.push(e);
      return e;
    },
  };
}

const registry = new ErrorRegistry([
  { name: 'definite', type: 'fail', match: (e) => e instanceof OpError && e.code === 'definite' },
]);

function scriptedClient(script: readonly Behaviour[], counter: { i: number }): Client<Op> {
  return {
    async invoke(_op, signal) {
      const b = script[counter.i++ % script.length]!;
      await new Promise((r) => setImmediate(r));
      if (b === 'ok') return { value: 1 };
      if (b === 'definite') throw new OpError('definite', 'refused');
      if (b === 'unknown-error') throw new Error('socket hang up');
      // hang until the op timeout aborts it
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    },
    async close() {},
  };
}

describe('interpret', () => {
  it('gives every invoke exactly one completion, classified, and retires processes after info', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Behaviour>('ok', 'ok', 'definite', 'unknown-error', 'hang'), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 12 }),
        async (script, threads, perThread) => {
          const sink = memorySink();
          const counter = { i: 0 };
          const client = scriptedClient(script, counter);
          await interpret({
            gen: each(() =>
              limit(
                perThread,
                ops((): Op => ({ f: 'write', key: 'k', value: 1 })),
              ),
            ),
            processes: new ProcessTable(threads),
            client: () => client,
            node: (t) => `n${t}`,
            errors: registry,
            rng: (t) => new Rng(1).fork(`t${t}`),
            sink,
            opTimeoutMs: 5,
            signal: new AbortController().signal,
          });
          const { events } = sink;
          // Completions name the node of the worker that ran them (process p is worker p mod
          // threads); invokes do not (where the op lands is known only once it ends).
          for (const e of events) {
            expect(e.node).toBe(
              e.type === 'invoke' ? undefined : `n${(e.process as number) % threads}`,
            );
          }
          // Well-formed in the checker's own sense (one completion per invoke, no reuse after info).
          expect(checkWellFormed(events, { file: 'memory', retiredProcesses: 'error' })).toEqual(
            [],
          );
          const invokes = events.filter((e) => e.type === 'invoke');
          expect(invokes.length).toBe(threads * perThread);
          expect(events.length).toBe(2 * invokes.length);
          for (const e of events) {
            if (e.type === 'fail') expect(String(e.error)).toMatch(/^definite/);
            if (e.type === 'info') expect(['timeout', 'socket hang up']).toContain(e.error);
          }
          // A process after info is old + concurrency.
          for (const e of events.filter((x) => x.type === 'info')) {
            const p = e.process as number;
            expect(events.some((x) => x.index > e.index && x.process === p)).toBe(false);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('on abort, stops asking and records ops in flight as info', async () => {
    const sink = memorySink();
    const ctl = new AbortController();
    const hang: Client<Op> = {
      invoke: (_op, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
      async close() {},
    };
    setTimeout(() => ctl.abort(), 50);
    await interpret({
      gen: ops((): Op => ({ f: 'read', key: 'k' })),
      processes: new ProcessTable(3),
      client: () => hang,
      errors: registry,
      rng: () => new Rng(1),
      sink,
      opTimeoutMs: 60_000,
      signal: ctl.signal,
    });
    expect(sink.events.filter((e) => e.type === 'invoke').length).toBe(3);
    expect(sink.events.filter((e) => e.type === 'info').map((e) => e.error)).toEqual([
      'aborted: the run stopped',
      'aborted: the run stopped',
      'aborted: the run stopped',
    ]);
  });

  it('marks a fail the rules call unavailable (`unavailable: true`), and no other', async () => {
    const sink = memorySink();
    const rules = new ErrorRegistry([
      { name: 'answer', type: 'fail', match: (e) => e instanceof OpError && e.code === 'no' },
      {
        name: 'down',
        type: 'fail',
        unavailable: true,
        match: (e) => e instanceof OpError && e.code === 'down',
      },
    ]);
    let i = 0;
    const client: Client<Op> = {
      async invoke() {
        throw new OpError(i++ % 2 === 0 ? 'no' : 'down', 'refused');
      },
      async close() {},
    };
    await interpret({
      gen: limit(
        4,
        ops((): Op => ({ f: 'cas', key: 'k', value: [1, 2] })),
      ),
      processes: new ProcessTable(1),
      client: () => client,
      errors: rules,
      rng: () => new Rng(1),
      sink,
      opTimeoutMs: 60_000,
      signal: new AbortController().signal,
    });
    const fails = sink.events.filter((e) => e.type === 'fail');
    expect(fails.map((e) => [String(e.error).split(':')[0], e.unavailable])).toEqual([
      ['answer', undefined],
      ['down', true],
      ['answer', undefined],
      ['down', true],
    ]);
  });

  it('ends an op at its timeout even when the client ignores the signal', async () => {
    const sink = memorySink();
    const deaf: Client<Op> = { invoke: () => new Promise(() => {}), async close() {} };
    await interpret({
      gen: limit(
        4,
        ops((): Op => ({ f: 'read', key: 'k' })),
      ),
      processes: new ProcessTable(2),
      client: () => deaf,
      errors: registry,
      rng: () => new Rng(1),
      sink,
      opTimeoutMs: 20,
      signal: new AbortController().signal,
    });
    const completions = sink.events.filter((e) => e.type !== 'invoke');
    expect(completions.map((e) => [e.type, e.error])).toEqual(
      Array.from({ length: 4 }, () => ['info', 'timeout']),
    );
  });

  it('gives each op a live signal, shared by a few ops at most, fresh after an abort', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Behaviour>('ok', 'ok', 'ok', 'definite', 'hang'), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 30 }),
        async (script, threads, perThread) => {
          const uses = new Map<AbortSignal, number>();
          let liveAtInvoke = true;
          const counter = { i: 0 };
          const scripted = scriptedClient(script, counter);
          const client: Client<Op> = {
            invoke(op, signal) {
              if (signal.aborted) liveAtInvoke = false;
              uses.set(signal, (uses.get(signal) ?? 0) + 1);
              // A careless client: one listener per op, never removed.
              signal.addEventListener('abort', () => {});
              return scripted.invoke(op, signal);
            },
            async close() {},
          };
          const warnings: Error[] = [];
          const onWarning = (w: Error) => warnings.push(w);
          process.on('warning', onWarning);
          try {
            await interpret({
              gen: each(() =>
                limit(
                  perThread,
                  ops((): Op => ({ f: 'write', key: 'k', value: 1 })),
                ),
              ),
              processes: new ProcessTable(threads),
              client: () => client,
              errors: registry,
              rng: (t) => new Rng(1).fork(`t${t}`),
              sink: memorySink(),
              opTimeoutMs: 5,
              signal: new AbortController().signal,
            });
          } finally {
            process.off('warning', onWarning);
          }
          expect(liveAtInvoke).toBe(true);
          expect([...uses.values()].reduce((a, b) => a + b, 0)).toBe(threads * perThread);
          expect(Math.max(...uses.values())).toBeLessThanOrEqual(8);
          expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
        },
      ),
      { numRuns: 30 },
    );
  });
});
